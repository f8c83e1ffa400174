package io.tollgate.warmup;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.ssl.OpenSslSessionContext;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import io.tollgate.accesslog.AccessLog;
import io.tollgate.config.ConfigException;
import io.tollgate.config.ConfigLoader;
import io.tollgate.config.TollgateConfig;
import io.tollgate.connection.CloseReason;
import io.tollgate.limits.ConnectionLimits;
import io.tollgate.listener.InheritedSockets;
import io.tollgate.listener.Listeners;
import io.tollgate.listener.Transport;
import io.tollgate.metrics.Metrics;
import io.tollgate.pki.CertificateAuthority;
import io.tollgate.pki.IssuedCertificate;
import io.tollgate.snapshot.Snapshot;
import io.tollgate.tls.TlsProvider;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Comparator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pays the JIT warm-up before the first client: new TLS connections, alternately passthrough and
 * offload (full handshakes, a small request echoed back), through a private listener on 127.0.0.1:0
 * that runs the real data path (inspector, router, relay, BoringSSL) on the process's own event
 * loops. The JIT's profile is per method, not per listener, so the client listeners then start with
 * compiled code.
 *
 * <p>Nothing of it is a tenant's: a throwaway CA and certificates made for it, loopback echo
 * backends of its own, its own {@link Metrics}, limits and a {@link AccessLog#discarding} access
 * log. Only a summary line is logged.
 */
public final class SelfWarmup {
  private static final Logger log = LoggerFactory.getLogger(SelfWarmup.class);

  /** The warm-up never takes longer than this, whatever {@code handshakes} says. */
  static final Duration TIME_LIMIT = Duration.ofSeconds(30);

  /** Connections in flight at once: enough to keep the event loop busy, as clients would. */
  static final int CONCURRENCY = 4;

  /** How long a late connection waits after its handshake before its request (see next). */
  static final long LATE_MILLIS = 1;

  static final String PASS_NAME = "pass.warmup.invalid";
  static final String OFF_NAME = "off.warmup.invalid";
  private static final byte[] REQUEST =
      "GET / HTTP/1.1\r\nHost: warmup.invalid\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  /**
   * What a warm-up did.
   *
   * @param connections connections that completed their exchange
   * @param failed connections that did not
   * @param finishedNanos {@link System#nanoTime} when its listener and backends were closed
   */
  public record Result(int connections, int failed, Duration took, long finishedNanos) {}

  private SelfWarmup() {}

  /**
   * Runs up to {@code connections} warm-up connections (half passthrough, half offload) on {@code
   * workers}, and returns once they have all closed, or after {@link #TIME_LIMIT}. Call it before
   * any client listener accepts. A warm-up that fails is logged and otherwise ignored: it only
   * costs speed.
   */
  public static Result run(
      Transport transport, EventLoopGroup acceptors, EventLoopGroup workers, int connections)
      throws InterruptedException {
    long start = System.nanoTime();
    Path dir = null;
    Listeners listeners = null;
    EchoBackend tlsBackend = null;
    EchoBackend plainBackend = null;
    Counts counts = new Counts();
    try {
      dir = Files.createTempDirectory("tollgate-warmup");
      CertificateAuthority ca =
          CertificateAuthority.create("Tollgate warm-up", CertificateAuthority.KeyType.EC_P256);
      IssuedCertificate pass = ca.issue(CertificateAuthority.KeyType.EC_P256, PASS_NAME);
      IssuedCertificate off = ca.issue(CertificateAuthority.KeyType.EC_P256, OFF_NAME);
      IssuedCertificate.PemFiles offFiles = off.writePem(dir, "off");
      TlsProvider provider = TlsProvider.select();
      SslContext backendTls =
          SslContextBuilder.forServer(pass.key(), pass.chain().toArray(new X509Certificate[0]))
              .sslProvider(provider.sslProvider())
              .build();
      tlsBackend = new EchoBackend(workers, transport.serverChannel(), backendTls);
      plainBackend = new EchoBackend(workers, transport.serverChannel(), null);
      TollgateConfig config = config(offFiles, tlsBackend.address(), plainBackend.address());
      Snapshot snapshot = Snapshot.build(config, null, transport.socketChannel());
      listeners =
          new Listeners(
              transport,
              InheritedSockets.none(),
              acceptors,
              workers,
              () -> snapshot,
              new Metrics(),
              new ConnectionLimits(config),
              AccessLog.discarding(),
              null);
      listeners.bind(config.listeners());
      SslContext clientTls =
          SslContextBuilder.forClient()
              .sslProvider(provider.sslProvider())
              .trustManager(ca.trustManagers())
              .build();
      if (clientTls.sessionContext() instanceof OpenSslSessionContext sessions) {
        sessions.setSessionCacheEnabled(false); // full handshakes only, as from new clients
      }
      drive(transport, workers, clientTls, listeners.address("warmup"), connections, counts);
    } catch (ConfigException | IOException | RuntimeException e) {
      log.warn("warm-up failed, starting without it: {}", e.toString());
    } finally {
      if (listeners != null) {
        listeners.close();
        listeners.connections().awaitClosed(Duration.ofSeconds(2), new CompletableFuture<>());
        listeners.connections().closeAll(CloseReason.SHUTDOWN, "warm-up over");
      }
      if (tlsBackend != null) {
        tlsBackend.close();
      }
      if (plainBackend != null) {
        plainBackend.close();
      }
      delete(dir);
    }
    long end = System.nanoTime();
    Result result =
        new Result(counts.done.get(), counts.failed.get(), Duration.ofNanos(end - start), end);
    log.info(
        "warm-up: {} loopback connection(s) through passthrough and offload ({} failed) in {} ms",
        result.connections(),
        result.failed(),
        result.took().toMillis());
    return result;
  }

  private static TollgateConfig config(
      IssuedCertificate.PemFiles off, InetSocketAddress tlsBackend, InetSocketAddress plainBackend)
      throws ConfigException {
    // Session tickets on, as on a client's route: the end of the server's handshake (tickets
    // after the client's Finished) is then the one clients meet. Every handshake is still full:
    // the warm-up's client keeps no sessions (see run).
    String hocon =
        "tollgate {\n"
            + "  listeners = [ { name = warmup, address = \"127.0.0.1:0\" } ]\n"
            + "  tls { session-cache-size = 0 }\n"
            + "  routes = [\n"
            + "    { hosts = [\""
            + PASS_NAME
            + "\"], mode = passthrough, pool = tls }\n"
            + "    { hosts = [\""
            + OFF_NAME
            + "\"], mode = offload, pool = plain, certificate { chain = "
            + quote(off.certificateChain())
            + ", key = "
            + quote(off.privateKey())
            + " } }\n"
            + "  ]\n"
            + "  pools {\n"
            + "    tls { servers = [\"127.0.0.1:"
            + tlsBackend.getPort()
            + "\"] }\n"
            + "    plain { servers = [\"127.0.0.1:"
            + plainBackend.getPort()
            + "\"] }\n"
            + "  }\n"
            + "}\n";
    return ConfigLoader.parse(hocon, "warm-up");
  }

  private static String quote(Path p) {
    return "\"" + p.toAbsolutePath().toString().replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  /** {@code connections} connections, {@link #CONCURRENCY} at a time; bounded by the time limit. */
  private static void drive(
      Transport transport,
      EventLoopGroup workers,
      SslContext tls,
      InetSocketAddress target,
      int connections,
      Counts counts)
      throws InterruptedException {
    AtomicInteger started = new AtomicInteger();
    long deadline = System.nanoTime() + TIME_LIMIT.toNanos();
    int chains = Math.min(CONCURRENCY, connections);
    CountDownLatch finished = new CountDownLatch(chains);
    Bootstrap bootstrap =
        new Bootstrap()
            .group(workers)
            .channel(transport.socketChannel())
            .option(ChannelOption.TCP_NODELAY, true);
    for (int i = 0; i < chains; i++) {
      next(bootstrap, tls, target, connections, started, deadline, counts, finished);
    }
    if (!finished.await(TIME_LIMIT.toMillis() + 5_000, TimeUnit.MILLISECONDS)) {
      log.warn("warm-up: connections still open after {}", TIME_LIMIT);
    }
  }

  /** Starts one connection; when it closes, the next one of its chain. */
  private static void next(
      Bootstrap bootstrap,
      SslContext tls,
      InetSocketAddress target,
      int connections,
      AtomicInteger started,
      long deadline,
      Counts counts,
      CountDownLatch finished) {
    int n = started.getAndIncrement();
    if (n >= connections || System.nanoTime() - deadline > 0) {
      finished.countDown();
      return;
    }
    String name = n % 2 == 0 ? PASS_NAME : OFF_NAME;
    // Every other pair of connections sends its request a moment after the handshake, as clients
    // do that send their Finished alone (h2load, curl): the server then ends its handshake in a
    // read that decodes no data, a branch of SslHandler's read path that the JIT would otherwise
    // first meet with a client's connection, and compile the whole read path again for.
    Exchange exchange = new Exchange(counts, n / 2 % 2 == 1);
    bootstrap
        .clone()
        .handler(
            new ChannelInitializer<Channel>() {
              @Override
              protected void initChannel(Channel ch) {
                ch.pipeline().addLast(tls.newHandler(ch.alloc(), name, target.getPort()), exchange);
              }
            })
        .connect(target)
        .addListener(
            f -> {
              if (!f.isSuccess()) {
                counts.failed.incrementAndGet();
                next(bootstrap, tls, target, connections, started, deadline, counts, finished);
                return;
              }
              ((ChannelFuture) f)
                  .channel()
                  .closeFuture()
                  .addListener(
                      c ->
                          next(
                              bootstrap,
                              tls,
                              target,
                              connections,
                              started,
                              deadline,
                              counts,
                              finished));
            });
  }

  private static final class Counts {
    final AtomicInteger done = new AtomicInteger();
    final AtomicInteger failed = new AtomicInteger();
  }

  /**
   * After the handshake (at once, or {@link #LATE_MILLIS} later): one small request, waits for its
   * echo, closes.
   */
  private static final class Exchange extends ChannelInboundHandlerAdapter {
    private final Counts counts;
    private final boolean late;
    private int received;
    private boolean counted;

    Exchange(Counts counts, boolean late) {
      this.counts = counts;
      this.late = late;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof SslHandshakeCompletionEvent e) {
        if (e.isSuccess() && late) {
          ctx.executor().schedule(() -> send(ctx), LATE_MILLIS, TimeUnit.MILLISECONDS);
        } else if (e.isSuccess()) {
          send(ctx);
        } else {
          ctx.close();
        }
      }
      ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        if (msg instanceof ByteBuf buf) {
          received += buf.readableBytes();
        }
      } finally {
        ReferenceCountUtil.release(msg);
      }
      if (received >= REQUEST.length && !counted) {
        counted = true;
        counts.done.incrementAndGet();
        ctx.close();
      }
    }

    private static void send(ChannelHandlerContext ctx) {
      if (ctx.channel().isActive()) { // a late request: the connection may have failed since
        ctx.writeAndFlush(Unpooled.wrappedBuffer(REQUEST));
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (!counted) {
        counted = true;
        counts.failed.incrementAndGet();
      }
      ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }

  private static void delete(Path dir) {
    if (dir == null) {
      return;
    }
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(SelfWarmup::deleteQuietly);
    } catch (IOException | UncheckedIOException e) {
      log.debug("warm-up: cannot delete {}: {}", dir, e.toString());
    }
  }

  private static void deleteQuietly(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException e) {
      log.debug("warm-up: cannot delete {}: {}", p, e.toString());
    }
  }
}
