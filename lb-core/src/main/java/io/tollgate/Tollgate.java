package io.tollgate;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.tollgate.accesslog.AccessLog;
import io.tollgate.accesslog.AccessLogOutput;
import io.tollgate.config.ConfigException;
import io.tollgate.config.IoConfig;
import io.tollgate.config.ListenerConfig;
import io.tollgate.config.TollgateConfig;
import io.tollgate.health.HealthChecker;
import io.tollgate.limits.ConnectionLimits;
import io.tollgate.listener.ListenerFactory;
import io.tollgate.listener.Transport;
import io.tollgate.metrics.Metrics;
import io.tollgate.relay.RelaySettings;
import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running Tollgate: event loops, bound listeners and the current {@link Snapshot}.
 *
 * <p>{@link #start} binds every listener or fails without leaving anything running;
 * {@link #reload} swaps the routing snapshot for new connections; {@link #close} stops accepting
 * and closes everything.
 */
public final class Tollgate implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Tollgate.class);

  private final Transport transport;
  private final EventLoopGroup acceptors;
  private final EventLoopGroup workers;
  private final Metrics metrics = new Metrics();
  private final Map<String, Channel> listeners = new LinkedHashMap<>();
  /** Outlives snapshots: server health is keyed by pool and address and survives reloads. */
  private final HealthChecker health;
  /** Outlives snapshots: connections open under an old config keep counting. */
  private final ConnectionLimits limits;
  private final AccessLog accessLog = new AccessLog();
  private AccessLogOutput accessLogOutput;
  private volatile Snapshot snapshot;

  private Tollgate(Transport transport, int workerThreads, Snapshot snapshot,
      HealthChecker health) {
    this.transport = transport;
    this.snapshot = snapshot;
    this.health = health;
    this.limits = new ConnectionLimits(snapshot.config());
    this.accessLogOutput = AccessLogOutput.start(snapshot.config().accessLog(), accessLog);
    this.metrics.snapshotSource(() -> this.snapshot);
    this.acceptors = transport.newGroup(1, "accept");
    this.workers = transport.newGroup(workerThreads, "worker");
  }

  /** Starts with the transport the config asks for. */
  public static Tollgate start(TollgateConfig config) throws ConfigException, InterruptedException {
    return start(config, config.io().transport());
  }

  /**
   * Builds the snapshot, starts the event loops and binds every listener.
   *
   * @param transport overrides {@code io.transport} (the CLI's {@code --nio})
   * @throws ConfigException when a backend host does not resolve
   * @throws IllegalStateException when a listener cannot bind; nothing is left running
   */
  public static Tollgate start(TollgateConfig config, IoConfig.Transport transport)
      throws ConfigException, InterruptedException {
    HealthChecker health = new HealthChecker();
    Snapshot snapshot;
    try {
      snapshot = Snapshot.build(config, health);
    } catch (ConfigException | RuntimeException e) {
      health.close();
      throw e;
    }
    logWarnings(snapshot);
    int threads = config.io().workerThreads() > 0
        ? config.io().workerThreads()
        : Runtime.getRuntime().availableProcessors();
    Tollgate tollgate = new Tollgate(Transport.select(transport), threads, snapshot, health);
    try {
      tollgate.bindAll(config);
    } catch (RuntimeException | InterruptedException e) {
      tollgate.close();
      throw e;
    }
    log.info(
        "Tollgate started: {} listener(s) {}, {} route(s), {} pool(s), transport {}, {} worker thread(s)",
        tollgate.listeners.size(), tollgate.describeListeners(), config.routes().size(),
        config.pools().size(), tollgate.transport.name(), threads);
    return tollgate;
  }

  private void bindAll(TollgateConfig c) throws InterruptedException {
    RelaySettings relay =
        new RelaySettings(
            c.timeouts().connect(), c.timeouts().idle(), c.timeouts().handshake(),
            transport.socketChannel(),
            RelaySettings.DEFAULT_WATER_MARK);
    ListenerFactory factory =
        new ListenerFactory(() -> snapshot, relay, c.limits().maxClientHello(),
            c.timeouts().clientHello().toMillis(), metrics, limits, accessLog);
    for (ListenerConfig lc : c.listeners()) {
      InetSocketAddress address =
          new InetSocketAddress(lc.address().host(), lc.address().port());
      ServerBootstrap b =
          new ServerBootstrap()
              .group(acceptors, workers)
              .channel(transport.serverChannel())
              .option(ChannelOption.SO_BACKLOG, 1024)
              .option(ChannelOption.SO_REUSEADDR, true)
              .handler(factory.acceptHandler(lc.name()))
              .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
              .childOption(ChannelOption.TCP_NODELAY, true)
              .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, relay.waterMark())
              .childHandler(factory.initializer(lc.name()));
      try {
        Channel ch = b.bind(address).sync().channel();
        listeners.put(lc.name(), ch);
      } catch (Exception e) {
        throw new IllegalStateException(
            "listener " + lc.name() + ": cannot bind " + lc.address() + ": " + e.getMessage(), e);
      }
    }
  }

  /**
   * Routes new connections with a new config; connections already routed keep their route and
   * backend. Listener addresses are not changed by a reload yet.
   *
   * @throws ConfigException when the new config cannot be turned into a snapshot; the old one
   *     stays in force
   */
  public synchronized void reload(TollgateConfig config) throws ConfigException {
    Snapshot next;
    try {
      next = Snapshot.build(config, health);
    } catch (ConfigException | RuntimeException e) {
      metrics.reloaded(false);
      throw e;
    }
    logWarnings(next);
    limits.apply(config);
    accessLogOutput = accessLogOutput.reconfigure(config.accessLog(), accessLog);
    snapshot = next;
    metrics.reloaded(true);
    log.info("Reloaded {}: {} route(s), {} pool(s)", config.source(), config.routes().size(),
        config.pools().size());
  }

  private static void logWarnings(Snapshot snapshot) {
    snapshot.warnings().forEach(w -> log.warn("config warning: {}", w));
  }

  /** The address a listener is bound to; with port 0 in config, the port the OS chose. */
  public InetSocketAddress address(String listenerName) {
    Channel ch = listeners.get(listenerName);
    if (ch == null) {
      throw new IllegalArgumentException("no listener named " + listenerName);
    }
    return (InetSocketAddress) ch.localAddress();
  }

  /**
   * Puts a server into drain (no new connections; open ones continue) or takes it out. Lasts
   * across reloads while the server stays in the pool.
   *
   * @return false if the pool or the server is not in the current config
   */
  public boolean drain(String pool, InetSocketAddress server, boolean on) {
    var p = snapshot.pools().get(pool);
    return p != null && p.drain(server, on);
  }

  public Metrics metrics() {
    return metrics;
  }

  public Snapshot snapshot() {
    return snapshot;
  }

  public String transportName() {
    return transport.name();
  }

  private String describeListeners() {
    StringBuilder sb = new StringBuilder();
    listeners.forEach((name, ch) -> sb.append(sb.length() == 0 ? "" : ", ")
        .append(name).append('=').append(ch.localAddress()));
    return sb.toString();
  }

  /** Stops accepting, closes every connection and stops the event loops. */
  @Override
  public void close() {
    for (Channel ch : listeners.values()) {
      ch.close().awaitUninterruptibly();
    }
    acceptors.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    workers.shutdownGracefully(0, 2, TimeUnit.SECONDS);
    acceptors.terminationFuture().awaitUninterruptibly(5, TimeUnit.SECONDS);
    workers.terminationFuture().awaitUninterruptibly(5, TimeUnit.SECONDS);
    health.close();
    synchronized (this) {
      accessLogOutput.close();
    }
  }
}
