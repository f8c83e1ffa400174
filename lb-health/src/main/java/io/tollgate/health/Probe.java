package io.tollgate.health;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import io.tollgate.config.BackendProxyProtocol;
import io.tollgate.config.HealthCheckConfig;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;

/**
 * One check of one server: connect (tcp), then a TLS handshake (tls, https), then an HTTP/1.1
 * request whose status (and optionally body) must match (http, https). Non-blocking on the
 * health event loop; the whole probe is bounded by the check's {@code timeout}. The result
 * carries the reason an operator reads in the log: {@code connect refused}, {@code timeout after
 * 1s}, {@code status 503}, {@code tls: certificate expired}...
 */
final class Probe {
  /** What one probe found. */
  record Result(boolean ok, String detail) {
    static Result ok(String detail) {
      return new Result(true, detail);
    }

    static Result fail(String detail) {
      return new Result(false, detail);
    }
  }

  /** Most response bytes an HTTP probe reads looking for the status and expected body. */
  static final int MAX_RESPONSE_BYTES = 64 * 1024 + 8 * 1024;
  /**
   * Where an HTTP probe's response buffer starts; it grows (up to {@link #MAX_RESPONSE_BYTES})
   * only for the rare large response, so a probe does not allocate 72 KiB for a status line.
   */
  static final int INITIAL_RESPONSE_BYTES = 2 * 1024;
  private static final byte[] CRLF = {'\r', '\n'};
  private static final byte[] CRLF_CRLF = {'\r', '\n', '\r', '\n'};

  private final HealthCheckConfig check;
  private final InetSocketAddress address;
  /** Replaced by a reload (new CA files); read by each probe. */
  private volatile ProbeTls ssl;
  private final String sslError;
  private final String sni;
  private final byte[] request;
  /** {@code expect-body} as UTF-8, or null. */
  private final byte[] expectBody;
  /** Written before anything else on the probe's connection, or null. */
  private byte[] proxyHeader;

  /** "PROXY UNKNOWN\r\n": a v1 header for a connection with no client (proxy-protocol.txt 2.1). */
  static final byte[] V1_UNKNOWN = "PROXY UNKNOWN\r\n".getBytes(StandardCharsets.US_ASCII);

  /**
   * A v2 LOCAL header (proxy-protocol.txt 2.2): the signature, 0x20 (version 2, LOCAL),
   * 0x00 (AF_UNSPEC), length 0. The receiver keeps the connection's own addresses.
   */
  static final byte[] V2_LOCAL = {
    0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x20, 0x00, 0x00, 0x00
  };

  /** The header a check of a pool with {@code proxy-protocol = version} sends first, or null. */
  static byte[] proxyHeader(BackendProxyProtocol.Version version) {
    return switch (version) {
      case OFF -> null;
      case V1 -> V1_UNKNOWN;
      case V2 -> V2_LOCAL;
    };
  }

  /**
   * @param ssl the TLS side for tls/https, or null with {@code sslError} saying why there is none
   * @param sni SNI to send (and name to verify when verification is on), or null
   * @param hostHeader Host header for http/https
   */
  Probe(HealthCheckConfig check, InetSocketAddress address, ProbeTls ssl, String sslError,
      String sni, String hostHeader) {
    this.check = check;
    this.address = address;
    this.ssl = ssl;
    this.sslError = sslError;
    this.sni = sni;
    this.request = check.type().usesHttp()
        ? ("GET " + check.path() + " HTTP/1.1\r\nHost: " + hostHeader
            + "\r\nUser-Agent: tollgate-health-check\r\nAccept: */*\r\nConnection: close\r\n\r\n")
            .getBytes(StandardCharsets.ISO_8859_1)
        : null;
    this.expectBody = check.expectBody().map(b -> b.getBytes(StandardCharsets.UTF_8)).orElse(null);
  }

  /**
   * Makes the probe send {@code header} first on its connection, before the TLS handshake or
   * request, as HAProxy's {@code check-send-proxy} does, so servers that require a PROXY header
   * do not log the checks as errors.
   */
  Probe withProxyHeader(byte[] header) {
    this.proxyHeader = header;
    return this;
  }

  /** Probes from now on open TLS with {@code tls} (a reload built it from fresh files). */
  void useTls(ProbeTls tls) {
    if (tls != null) {
      this.ssl = tls;
    }
  }

  /** Starts a probe on {@code loop}; the future always succeeds, with an ok or failed result. */
  Future<Result> run(EventLoop loop) {
    Promise<Result> promise = loop.newPromise();
    ProbeTls ssl = this.ssl;
    if (check.type().usesTls() && ssl == null) {
      promise.setSuccess(Result.fail("tls: " + sslError));
      return promise;
    }
    ChannelFuture connect =
        new Bootstrap()
            .group(loop)
            .channel(NioSocketChannel.class)
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) check.timeout().toMillis())
            .option(ChannelOption.TCP_NODELAY, true)
            .handler(new ChannelInitializer<Channel>() {
              @Override
              protected void initChannel(Channel ch) {
                if (proxyHeader != null) {
                  ch.pipeline().addLast("proxy-header", new ProxyHeaderWriter(proxyHeader));
                }
                if (ssl != null && check.type().usesTls()) {
                  ch.pipeline().addLast("tls", ssl.newHandler(ch.alloc(), address, sni));
                }
                ch.pipeline().addLast("probe", new ProbeHandler(promise));
              }
            })
            .connect(address);
    ScheduledFuture<?> timer = loop.schedule(
        () -> promise.trySuccess(Result.fail("timeout after " + human(check.timeout()))),
        check.timeout().toNanos(), TimeUnit.NANOSECONDS);
    connect.addListener((ChannelFuture f) -> {
      if (!f.isSuccess()) {
        promise.trySuccess(Result.fail(describeConnectFailure(f.cause(), check.timeout())));
      }
    });
    promise.addListener(f -> {
      timer.cancel(false);
      connect.channel().close();
    });
    return promise;
  }

  /**
   * Writes the PROXY header when the connection is up, ahead of the SslHandler's ClientHello
   * (it stands before it, so its channelActive runs first), then leaves.
   */
  private static final class ProxyHeaderWriter extends ChannelInboundHandlerAdapter {
    private final byte[] header;

    ProxyHeaderWriter(byte[] header) {
      this.header = header;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      ctx.writeAndFlush(Unpooled.wrappedBuffer(header), ctx.voidPromise());
      ctx.fireChannelActive();
      ctx.pipeline().remove(this);
    }
  }

  /** Follows one probe's connection; every byte it reads is released at once. */
  private final class ProbeHandler extends ChannelInboundHandlerAdapter {
    private final Promise<Result> promise;
    private byte[] response;
    private int length;
    private int status = -1;

    ProbeHandler(Promise<Result> promise) {
      this.promise = promise;
      this.response = check.type().usesHttp() ? new byte[INITIAL_RESPONSE_BYTES] : null;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      if (!check.type().usesTls()) {
        connectedAndReady(ctx, "connected");
      }
      ctx.fireChannelActive();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof SslHandshakeCompletionEvent e) {
        if (e.isSuccess()) {
          connectedAndReady(ctx, "tls handshake ok");
        } else {
          promise.trySuccess(Result.fail(describeTlsFailure(e.cause())));
        }
      }
      ctx.fireUserEventTriggered(evt);
    }

    private void connectedAndReady(ChannelHandlerContext ctx, String what) {
      if (request == null) {
        promise.trySuccess(Result.ok(what));
      } else {
        ctx.writeAndFlush(Unpooled.wrappedBuffer(request));
        ctx.read(); // in case auto-read is off
      }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        if (msg instanceof ByteBuf buf && response != null && !promise.isDone()) {
          int n = Math.min(buf.readableBytes(), MAX_RESPONSE_BYTES - length);
          if (length + n > response.length) {
            response = Arrays.copyOf(response,
                Math.min(MAX_RESPONSE_BYTES, Math.max(length + n, 2 * response.length)));
          }
          buf.readBytes(response, length, n);
          length += n;
          evaluate(false);
        }
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (response != null) {
        evaluate(true);
      }
      promise.trySuccess(Result.fail("connection closed before a response"));
      ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      promise.trySuccess(Result.fail(hasSslCause(cause)
          ? describeTlsFailure(cause)
          : "read failed: " + firstLine(rootCause(cause).getMessage())));
      ctx.close();
    }

    /** Decides once the status line (and, if asked for, the body) is in, or the input ended. */
    private void evaluate(boolean ended) {
      if (promise.isDone()) {
        return;
      }
      if (status < 0) {
        int eol = indexOf(response, length, CRLF, 0);
        if (eol < 0) {
          if (ended || length == MAX_RESPONSE_BYTES) {
            promise.trySuccess(Result.fail(length == 0
                ? "connection closed before a response" : "not an HTTP response"));
          }
          return;
        }
        String line = new String(response, 0, eol, StandardCharsets.ISO_8859_1);
        status = parseStatus(line);
        if (status < 0) {
          promise.trySuccess(Result.fail("not an HTTP response: \"" + abbreviate(line) + "\""));
          return;
        }
        if (status < check.expectStatusMin() || status > check.expectStatusMax()) {
          promise.trySuccess(Result.fail("status " + status));
          return;
        }
        if (expectBody == null) {
          promise.trySuccess(Result.ok("status " + status));
          return;
        }
      }
      int headerEnd = indexOf(response, length, CRLF_CRLF, 0);
      if (headerEnd >= 0 && indexOf(response, length, expectBody, headerEnd + 4) >= 0) {
        promise.trySuccess(Result.ok("status " + status + ", body has \""
            + check.expectBody().get() + "\""));
      } else if (ended || length == MAX_RESPONSE_BYTES) {
        promise.trySuccess(Result.fail("status " + status + " but the body does not contain \""
            + check.expectBody().get() + "\""));
      }
    }
  }

  /** {@code HTTP/1.1 200 OK} -> 200; -1 if the line is not a status line. */
  static int parseStatus(String line) {
    if (!line.startsWith("HTTP/") || line.length() < 12) {
      return -1;
    }
    int sp = line.indexOf(' ');
    if (sp < 0 || sp + 4 > line.length()) {
      return -1;
    }
    String code = line.substring(sp + 1, sp + 4);
    if (!code.chars().allMatch(Character::isDigit)
        || (line.length() > sp + 4 && line.charAt(sp + 4) != ' ')) {
      return -1;
    }
    return Integer.parseInt(code);
  }

  static int indexOf(byte[] haystack, int length, byte[] needle, int from) {
    outer:
    for (int i = Math.max(0, from); i + needle.length <= length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  static String describeConnectFailure(Throwable cause, Duration timeout) {
    if (cause instanceof ConnectTimeoutException) {
      return "timeout after " + human(timeout) + " (connect)";
    }
    if (cause instanceof ConnectException && String.valueOf(cause.getMessage())
        .toLowerCase(java.util.Locale.ROOT).contains("refused")) {
      return "connect refused";
    }
    return "connect failed: " + firstLine(rootCause(cause).getMessage());
  }

  static String describeTlsFailure(Throwable cause) {
    for (Throwable c = cause; c != null; c = c.getCause()) {
      if (c instanceof CertificateExpiredException) {
        return "tls: certificate expired";
      }
      if (c instanceof CertificateNotYetValidException) {
        return "tls: certificate not yet valid";
      }
    }
    String msg = firstLine(rootCause(cause).getMessage());
    String lower = msg.toLowerCase(java.util.Locale.ROOT);
    if (lower.contains("expired")) {
      return "tls: certificate expired (" + msg + ")";
    }
    if (lower.contains("pkix") || lower.contains("certification path")
        || lower.contains("unknown ca") || lower.contains("certificate_unknown")) {
      return "tls: certificate not trusted: verification against the pool's tls.ca (else the"
          + " JDK's trust store) failed (" + msg + ")";
    }
    if (lower.contains("subject alternative") || lower.contains("hostname")) {
      return "tls: certificate does not match the server name (" + msg + ")";
    }
    return "tls: " + msg;
  }

  private static boolean hasSslCause(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof SSLException) {
        return true;
      }
    }
    return false;
  }

  private static Throwable rootCause(Throwable t) {
    Throwable c = t;
    while (c.getCause() != null && c.getCause() != c) {
      c = c.getCause();
    }
    return c;
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "(no message)";
    }
    int nl = s.indexOf('\n');
    return abbreviate(nl < 0 ? s : s.substring(0, nl));
  }

  private static String abbreviate(String s) {
    return s.length() > 200 ? s.substring(0, 200) + "..." : s;
  }

  /** {@code 1s}, {@code 200ms}, {@code 1500ms}. */
  static String human(Duration d) {
    long ms = d.toMillis();
    return ms % 1000 == 0 ? (ms / 1000) + "s" : ms + "ms";
  }
}
