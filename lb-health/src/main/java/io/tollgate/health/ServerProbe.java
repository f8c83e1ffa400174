package io.tollgate.health;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import io.tollgate.config.HealthCheckConfig;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * A probe's connection from start to end: connect (tcp), then a TLS handshake (tls, https), then,
 * for http and https, the request and the response, which {@link HttpCheck} judges. Non-blocking on
 * the health event loop; the whole probe is bounded by the check's {@code timeout}, and the
 * connection is closed as soon as the result is known. Failures are worded by {@link
 * ProbeFailures}: {@code connect refused}, {@code timeout after 1s}, {@code tls: certificate
 * expired}...
 */
final class ServerProbe implements Probe {
  private final HealthCheckConfig check;
  private final InetSocketAddress address;

  /** Replaced by a reload (new CA files); read by each probe. */
  private volatile ProbeTls ssl;

  private final String sslError;
  private final String sni;

  /** The request and what its response must be, or null for tcp and tls checks. */
  private final HttpCheck http;

  /** Written before anything else on the probe's connection, or null. */
  private byte[] proxyHeader;

  /** The local address the probe's connection binds to (port 0), or null for the kernel's. */
  private InetSocketAddress source;

  /**
   * @param ssl the TLS side for tls/https, or null with {@code sslError} saying why there is none
   * @param sni SNI to send (and name to verify when verification is on), or null
   * @param hostHeader Host header for http/https
   */
  ServerProbe(
      HealthCheckConfig check,
      InetSocketAddress address,
      ProbeTls ssl,
      String sslError,
      String sni,
      String hostHeader) {
    this.check = check;
    this.address = address;
    this.ssl = ssl;
    this.sslError = sslError;
    this.sni = sni;
    this.http = check.type().usesHttp() ? new HttpCheck(check, hostHeader) : null;
  }

  /**
   * Makes the probe send {@code header} first on its connection, before the TLS handshake or
   * request, as HAProxy's {@code check-send-proxy} does, so servers that require a PROXY header do
   * not log the checks as errors.
   */
  ServerProbe withProxyHeader(byte[] header) {
    this.proxyHeader = header;
    return this;
  }

  /**
   * Makes the probe connect from {@code address} (a pool's {@code source}), as the pool's backend
   * connections do, so a server that admits only that address sees the probes; null: the kernel's
   * choice.
   */
  ServerProbe withSource(InetAddress address) {
    this.source = address == null ? null : new InetSocketAddress(address, 0);
    return this;
  }

  @Override
  public void useTls(ProbeTls tls) {
    if (tls != null) {
      this.ssl = tls;
    }
  }

  @Override
  public Future<Result> run(EventLoop loop) {
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
            .handler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel ch) {
                    if (proxyHeader != null) {
                      ch.pipeline()
                          .addLast("proxy-header", new ProbeProxyHeader.Writer(proxyHeader));
                    }
                    if (ssl != null && check.type().usesTls()) {
                      ch.pipeline().addLast("tls", ssl.newHandler(ch.alloc(), address, sni));
                    }
                    ch.pipeline().addLast("probe", new ProbeHandler(promise));
                  }
                })
            .connect(address, source);
    ScheduledFuture<?> timer =
        loop.schedule(
            () -> promise.trySuccess(Result.fail(ProbeFailures.timeout(check.timeout()))),
            check.timeout().toNanos(),
            TimeUnit.NANOSECONDS);
    connect.addListener(
        (ChannelFuture f) -> {
          if (!f.isSuccess()) {
            promise.trySuccess(Result.fail(ProbeFailures.connect(f.cause(), check.timeout())));
          }
        });
    promise.addListener(
        f -> {
          timer.cancel(false);
          connect.channel().close();
        });
    return promise;
  }

  /** Follows one probe's connection; every byte it reads is released at once. */
  private final class ProbeHandler extends ChannelInboundHandlerAdapter {
    private final Promise<Result> promise;
    private final HttpCheck.Response response;

    ProbeHandler(Promise<Result> promise) {
      this.promise = promise;
      this.response = http != null ? http.newResponse() : null;
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
          promise.trySuccess(Result.fail(ProbeFailures.tls(e.cause())));
        }
      }
      ctx.fireUserEventTriggered(evt);
    }

    private void connectedAndReady(ChannelHandlerContext ctx, String what) {
      if (http == null) {
        promise.trySuccess(Result.ok(what));
      } else {
        ctx.writeAndFlush(http.request());
        ctx.read(); // in case auto-read is off
      }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        if (msg instanceof ByteBuf buf && response != null && !promise.isDone()) {
          decide(response.read(buf));
        }
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (response != null && !promise.isDone()) {
        decide(response.end());
      }
      promise.trySuccess(Result.fail("connection closed before a response"));
      ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      promise.trySuccess(Result.fail(ProbeFailures.read(cause)));
      ctx.close();
    }

    private void decide(Result result) {
      if (result != null) {
        promise.trySuccess(result);
      }
    }
  }
}
