package io.tollgate.admin;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.tollgate.Tollgate;
import io.tollgate.config.AdminConfig;
import io.tollgate.ops.AdminEndpoint;
import io.tollgate.ops.Reloader;
import io.tollgate.upgrade.Upgrader;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin endpoint ({@code tollgate.admin}): HTTP/1.1 for operators and scrapers.
 *
 * <pre>
 * GET  /status                                   JSON: config version, listeners, routes, pools,
 *                                                each server's health, drain and connections
 * GET  /metrics                                  Prometheus text format 0.0.4
 * POST /reload                                   re-read the config file; 200, or 422 + errors
 * POST /upgrade                                  a new process takes the listening sockets over
 * POST /pools/{pool}/servers/{address}/drain     no new connections to that server
 * POST /pools/{pool}/servers/{address}/enable    take it out of drain
 * GET  /ready                                    200 while this node wants new connections, 503
 *                                                from the moment a stop or an upgrade begins
 * GET  /live                                     200 while the process runs
 * </pre>
 *
 * <p>Who may ask is {@link AdminAccess}'s call (the token, or loopback {@code Host} and the {@value
 * #CSRF_HEADER} header), except for {@code /ready} and {@code /live}, which anyone who reaches the
 * endpoint may ask and which tell nothing but the state ({@link AdminEndpoints#probe}); what each
 * path does is {@link AdminEndpoints}'.
 *
 * <p>A small Netty server on an event loop of its own (one thread, apart from the data path's),
 * because the JDK's {@code HttpServer} reads request headers on its worker threads with no
 * per-request time limit (its limits are JVM-wide system properties), so two clients sending half a
 * request would hold both admin threads. Here the codec bounds the request line and headers
 * ({@value #MAX_LINE} and {@value #MAX_HEADERS} bytes) and the aggregator the body ({@value
 * #MAX_BODY}); a request must be complete within {@link #REQUEST_TIMEOUT} (else 408); only complete
 * requests reach the two admin threads, where reload and status run without blocking the loop. One
 * request per connection; at most {@value #MAX_CONNECTIONS} connections at once (more are closed at
 * accept), so slow clients cost bounded sockets and memory.
 */
public final class AdminServer implements AdminEndpoint {
  private static final Logger log = LoggerFactory.getLogger(AdminServer.class);

  /**
   * The header every POST must carry when there is no token-file (any value; {@code tollgate
   * reload} sends {@code 1}): a web page cannot send it cross-origin.
   */
  public static final String CSRF_HEADER = "X-Tollgate-Admin";

  static final int MAX_LINE = 8192;
  static final int MAX_HEADERS = 8192;
  static final int MAX_BODY = 64 * 1024;
  static final int MAX_CONNECTIONS = 64;
  static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(5);

  /** Backstop for an answer the client does not read; a reload can take a while. */
  private static final Duration ANSWER_TIMEOUT = Duration.ofMinutes(2);

  private final EventLoopGroup loop;
  private final ExecutorService workers;
  private final ChannelGroup channels;
  private final Channel server;

  private AdminServer(
      EventLoopGroup loop, ExecutorService workers, ChannelGroup channels, Channel server) {
    this.loop = loop;
    this.workers = workers;
    this.channels = channels;
    this.server = server;
  }

  /**
   * Binds the endpoint and starts serving.
   *
   * @param reloader what {@code POST /reload} runs; null answers it with 501 (no config file)
   * @throws IllegalStateException when the address cannot be bound or the token file is empty
   */
  public static AdminServer start(AdminConfig config, Tollgate tollgate, Reloader reloader) {
    return start(config, tollgate, reloader, null);
  }

  /**
   * As the other {@code start}, with {@code POST /upgrade}.
   *
   * @param upgrader what {@code POST /upgrade} runs; null answers it with 501
   */
  public static AdminServer start(
      AdminConfig config, Tollgate tollgate, Reloader reloader, Upgrader upgrader) {
    config.tokenFile().ifPresent(AdminServer::readToken);
    AdminAccess access = new AdminAccess(config.tokenFile());
    AdminEndpoints endpoints = new AdminEndpoints(tollgate, reloader, upgrader);
    Function<AdminRequest, AdminResponse> endpoint =
        r -> access.check(r).orElseGet(() -> endpoints.route(r));

    EventLoopGroup loop =
        new MultiThreadIoEventLoopGroup(
            1, new DefaultThreadFactory("tollgate-admin-io", true), NioIoHandler.newFactory());
    ThreadPoolExecutor workers =
        new ThreadPoolExecutor(
            2,
            2,
            0,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(),
            new DefaultThreadFactory("tollgate-admin", true));
    ChannelGroup channels = new DefaultChannelGroup("admin", loop.next());
    AtomicInteger open = new AtomicInteger();
    ServerBootstrap bootstrap =
        new ServerBootstrap()
            .group(loop)
            .channel(NioServerSocketChannel.class)
            .option(ChannelOption.SO_BACKLOG, 16)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    if (open.incrementAndGet() > MAX_CONNECTIONS) {
                      open.decrementAndGet();
                      log.debug(
                          "admin: {} connections open already; closing one from {}",
                          MAX_CONNECTIONS,
                          ch.remoteAddress());
                      ch.close();
                      return;
                    }
                    ch.closeFuture().addListener(f -> open.decrementAndGet());
                    channels.add(ch);
                    ch.pipeline()
                        .addLast(
                            new HttpServerCodec(
                                new HttpDecoderConfig()
                                    .setMaxInitialLineLength(MAX_LINE)
                                    .setMaxHeaderSize(MAX_HEADERS)
                                    .setStrictLineParsing(true)))
                        .addLast(new BodyCap())
                        .addLast(
                            new AdminHttpHandler(
                                endpoints::probe,
                                endpoint,
                                workers,
                                REQUEST_TIMEOUT,
                                ANSWER_TIMEOUT));
                  }
                });
    Channel server;
    try {
      server =
          bootstrap
              .bind(config.address().host(), config.address().port())
              .syncUninterruptibly()
              .channel();
    } catch (RuntimeException e) {
      workers.shutdownNow();
      loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
      throw new IllegalStateException(
          "admin: cannot bind " + config.address() + ": " + e.getMessage(), e);
    }
    AdminServer admin = new AdminServer(loop, workers, channels, server);
    probeItself(admin.address());
    log.info(
        "Admin endpoint on http://{}/ ({})",
        Status.hostPort(admin.address()),
        config.tokenFile().isPresent()
            ? "every request needs the bearer token from " + config.tokenFile().get()
            : "no token: loopback Host names only, POST requests"
                + " need the header "
                + CSRF_HEADER);
    return admin;
  }

  /**
   * One {@code GET /live} to itself once bound. The first request an endpoint serves loads and runs
   * Netty's HTTP codec for the first time (about 100 classes out of the jar): ~60 ms that fell on
   * the operator's first {@code POST /reload} (83 ms against 7 for the next one, on a config of one
   * route) or on the first liveness probe. Best effort: bounded by two seconds, a failure is only
   * logged at debug level.
   */
  private static void probeItself(InetSocketAddress at) {
    java.net.InetAddress host =
        at.getAddress().isAnyLocalAddress()
            ? java.net.InetAddress.getLoopbackAddress()
            : at.getAddress();
    try (java.net.Socket s = new java.net.Socket()) {
      s.connect(new InetSocketAddress(host, at.getPort()), 2000);
      s.setSoTimeout(2000);
      s.getOutputStream()
          .write(
              "GET /live HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
                  .getBytes(StandardCharsets.US_ASCII));
      s.getInputStream().readAllBytes();
    } catch (IOException e) {
      log.debug("admin: probing itself at {} failed: {}", at, e.toString());
    }
  }

  /** The body cap: a larger request gets a 413 from us (JSON, like every answer) and a close. */
  private static final class BodyCap extends HttpObjectAggregator {
    BodyCap() {
      super(MAX_BODY);
    }

    @Override
    protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
      AdminHttpHandler.write(
          ctx, AdminResponse.error(413, "request body larger than " + MAX_BODY + " bytes"), false);
    }
  }

  @Override
  public InetSocketAddress address() {
    return (InetSocketAddress) server.localAddress();
  }

  /**
   * The token in {@code file}, surrounding whitespace removed: what this endpoint expects and what
   * {@code tollgate reload} sends.
   *
   * @throws IllegalStateException when the file cannot be read or is empty
   */
  public static String readToken(Path file) {
    String token;
    try {
      token = Files.readString(file, StandardCharsets.UTF_8).strip();
    } catch (IOException e) {
      throw new IllegalStateException("admin: cannot read token-file " + file + ": " + e, e);
    }
    if (token.isEmpty()) {
      throw new IllegalStateException(
          "admin: token-file "
              + file
              + " is empty (expected one"
              + " line with the token, e.g. from `openssl rand -hex 32`)");
    }
    return token;
  }

  @Override
  public void stopAccepting() {
    server.close().syncUninterruptibly();
  }

  /**
   * Stops; a request being served gets at most a second to finish (so the answer to the {@code POST
   * /upgrade} that ended this process is written before its connection closes).
   */
  @Override
  public void close() {
    server.close().syncUninterruptibly();
    workers.shutdown();
    try {
      workers.awaitTermination(1, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    workers.shutdownNow();
    channels.close().awaitUninterruptibly(1, TimeUnit.SECONDS);
    loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(2, TimeUnit.SECONDS);
  }
}
