package io.tollgate;

import io.tollgate.snapshot.Snapshot;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.tollgate.config.ConfigError;
import io.tollgate.accesslog.AccessLog;
import io.tollgate.accesslog.AccessLogOutput;
import io.tollgate.config.ConfigException;
import io.tollgate.config.IoConfig;
import io.tollgate.config.ListenerConfig;
import io.tollgate.config.TollgateConfig;
import io.tollgate.connection.CloseReason;
import io.tollgate.connection.Connection;
import io.tollgate.health.HealthChecker;
import io.tollgate.limits.ConnectionLimits;
import io.tollgate.listener.ListenerFactory;
import io.tollgate.listener.Transport;
import io.tollgate.metrics.Metrics;
import io.tollgate.relay.RelaySettings;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running Tollgate: event loops, bound listeners and the current {@link Snapshot}.
 *
 * <p>{@link #start} binds every listener or fails without leaving anything running;
 * {@link #reload} swaps the routing snapshot for new connections and binds/unbinds listeners that
 * were added, removed or moved; {@link #shutdown} stops accepting and lets connections finish
 * for a while; {@link #close} stops accepting and closes everything.
 */
public final class Tollgate implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Tollgate.class);

  private final Transport transport;
  private final EventLoopGroup acceptors;
  private final EventLoopGroup workers;
  private final Metrics metrics = new Metrics();
  /** Bound listeners by name; changed only under this object's lock (start, reload, close). */
  private final Map<String, BoundListener> listeners = new LinkedHashMap<>();
  /** Every client connection open now (removed when it closes), for the shutdown drain. */
  private final ChannelGroup connections =
      new DefaultChannelGroup("tollgate-connections", GlobalEventExecutor.INSTANCE);
  /** Outlives snapshots: server health is keyed by pool and address and survives reloads. */
  private final HealthChecker health;
  /** Outlives snapshots: connections open under an old config keep counting. */
  private final ConnectionLimits limits;
  private final AccessLog accessLog = new AccessLog(metrics::accessLogDropped);
  private AccessLogOutput accessLogOutput;
  private volatile Snapshot snapshot;
  private volatile long configVersion = 1;
  private volatile Instant configLoadedAt = Instant.now();
  private volatile boolean shuttingDown;
  private volatile boolean endDrain;

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
    // Process ticket keys rotate every 12 h (no key file); look once a minute. On the acceptor
    // loop, not a worker: installing keys takes each context's write lock, briefly.
    acceptors.scheduleAtFixedRate(() -> {
      if (this.snapshot.tls().refreshTicketKeys()) {
        log.info("rotated the session-ticket keys of this process");
      }
    }, 1, 1, TimeUnit.MINUTES);
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
      snapshot.commitHealth();
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
      synchronized (tollgate) {
        ListenerFactory factory = tollgate.listenerFactory(config);
        for (ListenerConfig lc : config.listeners()) {
          tollgate.listeners.put(lc.name(), tollgate.bind(lc, factory));
        }
        log.info("Tollgate started: {} listener(s) {}, {} route(s), {} pool(s), transport {},"
            + " {} worker thread(s)", tollgate.listeners.size(), tollgate.describeListeners(),
            config.routes().size(), config.pools().size(), tollgate.transport.name(), threads);
      }
    } catch (RuntimeException e) {
      tollgate.close();
      throw e;
    }
    return tollgate;
  }

  /**
   * One bound listener. The channel's child handler delegates to {@code initializer}, which a
   * reload replaces, so a listener that stays bound picks up new timeouts and limits for the
   * connections it accepts next.
   */
  private static final class BoundListener {
    final ListenerConfig config;
    final Channel channel;
    volatile ChannelHandler initializer;

    BoundListener(ListenerConfig config, Channel channel, ChannelHandler initializer) {
      this.config = config;
      this.channel = channel;
      this.initializer = initializer;
    }
  }

  /** Adds each accepted channel to {@link #connections}, then the listener's current pipeline. */
  @ChannelHandler.Sharable
  private final class AcceptedChannels extends ChannelInitializer<Channel> {
    private BoundListener listener;

    @Override
    protected void initChannel(Channel ch) {
      connections.add(ch);
      // A ChannelInitializer added to a registered channel runs at once, in this call.
      ch.pipeline().addLast(listener.initializer);
    }
  }

  private ListenerFactory listenerFactory(TollgateConfig c) {
    RelaySettings relay =
        new RelaySettings(
            c.timeouts().connect(), c.timeouts().idle(), c.timeouts().handshake(),
            transport.socketChannel(),
            RelaySettings.DEFAULT_WATER_MARK);
    return new ListenerFactory(() -> snapshot, relay, c.limits().maxClientHello(),
        c.timeouts().clientHello().toMillis(), metrics, limits, accessLog);
  }

  /** @throws IllegalStateException when the address cannot be bound */
  private BoundListener bind(ListenerConfig lc, ListenerFactory factory) {
    InetSocketAddress address = new InetSocketAddress(lc.address().host(), lc.address().port());
    AcceptedChannels accepted = new AcceptedChannels();
    ServerBootstrap b =
        new ServerBootstrap()
            .group(acceptors, workers)
            .channel(transport.serverChannel())
            .option(ChannelOption.SO_BACKLOG, 1024)
            .option(ChannelOption.SO_REUSEADDR, true)
            .handler(factory.acceptHandler(lc.name()))
            .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, RelaySettings.DEFAULT_WATER_MARK)
            .childHandler(accepted);
    try {
      Channel ch = b.bind(address).syncUninterruptibly().channel();
      BoundListener bound =
          new BoundListener(lc, ch, factory.initializer(lc.name(), lc.proxyProtocol()));
      accepted.listener = bound;
      return bound;
    } catch (Exception e) {
      throw new IllegalStateException(
          "listener " + lc.name() + ": cannot bind " + lc.address() + ": " + e.getMessage(), e);
    }
  }

  /**
   * Routes new connections with a new config; connections already routed keep their route and
   * backend, and are never cut by a reload. Listeners are matched by name: one whose address is
   * unchanged stays bound (its new connections get the new timeouts and limits), a new or moved
   * one is bound, and one no longer in the config stops accepting (its open connections
   * continue). All of it happens, or none: the old config stays in force when anything fails.
   *
   * @throws ConfigException when the new config cannot be turned into a snapshot or a listener
   *     cannot be bound; the old config stays in force
   */
  public synchronized void reload(TollgateConfig config) throws ConfigException {
    if (shuttingDown) {
      throw new ConfigException(List.of(new ConfigError(config.source(), "tollgate",
          "Tollgate is shutting down; not reloading")));
    }
    Snapshot next;
    try {
      next = Snapshot.build(config, health);
    } catch (ConfigException | RuntimeException e) {
      metrics.reloaded(false);
      throw e;
    }
    logWarnings(next);
    ListenerFactory factory = listenerFactory(config);
    ListenerChanges changes = ListenerChanges.of(
        listeners.values().stream().map(b -> b.config).toList(), config.listeners());
    for (String name : changes.closeFirst()) {
      listeners.get(name).channel.close().syncUninterruptibly();
    }
    Map<String, BoundListener> bound = new LinkedHashMap<>();
    for (ListenerConfig lc : changes.bind()) {
      try {
        bound.put(lc.name(), bind(lc, factory));
      } catch (IllegalStateException e) {
        // The new snapshot's health plan is never committed: the checker still follows the
        // servers of the config in force, exactly as before.
        undoBinds(bound.values(), changes.closeFirst());
        metrics.reloaded(false);
        throw new ConfigException(List.of(new ConfigError(config.source(),
            "tollgate.listeners[" + config.listeners().indexOf(lc) + "].address",
            e.getMessage())));
      }
    }
    for (String name : changes.close()) {
      BoundListener old = listeners.remove(name);
      if (!changes.closeFirst().contains(name)) {
        old.channel.close().syncUninterruptibly();
      }
      log.info("listener {} at {} closed: no longer in the config (its open connections"
          + " continue)", name, old.config.address());
    }
    // Keep the config's order, so status lists listeners as the file does.
    Map<String, BoundListener> ordered = new LinkedHashMap<>();
    for (ListenerConfig lc : config.listeners()) {
      BoundListener b = bound.get(lc.name());
      if (b != null) {
        log.info("listener {} bound at {}", lc.name(), b.channel.localAddress());
      } else {
        b = listeners.get(lc.name());
        // The listener's new settings (PROXY protocol too) apply to connections it accepts next.
        b.initializer = factory.initializer(lc.name(), lc.proxyProtocol());
      }
      ordered.put(lc.name(), b);
    }
    listeners.clear();
    listeners.putAll(ordered);
    limits.apply(config);
    accessLogOutput = accessLogOutput.reconfigure(config.accessLog(), accessLog);
    next.commitHealth();
    snapshot = next;
    metrics.reloaded(true);
    configVersion++;
    configLoadedAt = Instant.now();
    log.info("Reloaded {} (config version {}): {} listener(s) {}, {} route(s), {} pool(s)",
        config.source(), configVersion, listeners.size(), describeListeners(),
        config.routes().size(), config.pools().size());
  }

  /**
   * A reload failed to bind: closes what it had bound and binds again, with the settings of the
   * config that stays in force, the listeners it had closed first.
   */
  private void undoBinds(Collection<BoundListener> bound, List<String> closedFirst) {
    bound.forEach(b -> b.channel.close().syncUninterruptibly());
    ListenerFactory previous = listenerFactory(snapshot.config());
    List<String> lost = new ArrayList<>();
    for (String name : closedFirst) {
      try {
        listeners.put(name, bind(listeners.get(name).config, previous));
      } catch (IllegalStateException again) {
        listeners.remove(name);
        lost.add(name);
      }
    }
    if (!lost.isEmpty()) {
      log.error("listener(s) {} could not be bound again after a failed reload", lost);
    }
  }

  private static void logWarnings(Snapshot snapshot) {
    snapshot.warnings().forEach(w -> log.warn("config warning: {}", w));
  }

  /** The address a listener is bound to; with port 0 in config, the port the OS chose. */
  public synchronized InetSocketAddress address(String listenerName) {
    BoundListener b = listeners.get(listenerName);
    if (b == null) {
      throw new IllegalArgumentException("no listener named " + listenerName);
    }
    return (InetSocketAddress) b.channel.localAddress();
  }

  /** Every bound listener's name and address, in config order. */
  public synchronized Map<String, InetSocketAddress> addresses() {
    Map<String, InetSocketAddress> out = new LinkedHashMap<>();
    listeners.forEach((name, b) -> out.put(name, (InetSocketAddress) b.channel.localAddress()));
    return out;
  }

  /** 1 at start, one more after each successful reload. */
  public long configVersion() {
    return configVersion;
  }

  /** When the config in force was loaded (start or last successful reload). */
  public Instant configLoadedAt() {
    return configLoadedAt;
  }

  /** Whether {@link #shutdown} has begun: listeners are closed, connections are draining. */
  public boolean isShuttingDown() {
    return shuttingDown;
  }

  /** Client connections open now. */
  public int openConnections() {
    return connections.size();
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

  /** Callers hold this object's lock. */
  private String describeListeners() {
    StringBuilder sb = new StringBuilder();
    listeners.forEach((name, b) -> sb.append(sb.length() == 0 ? "" : ", ")
        .append(name).append('=').append(b.channel.localAddress()));
    return sb.toString();
  }

  /**
   * Graceful stop (SIGTERM): closes every listener so nothing new is accepted, waits up to
   * {@code drain} for open connections to finish, closes those still open with reason
   * {@link CloseReason#SHUTDOWN}, then {@link #close}s.
   *
   * @return how many connections were cut when the drain ran out
   */
  public int shutdown(Duration drain) {
    synchronized (this) {
      shuttingDown = true;
      for (BoundListener b : listeners.values()) {
        b.channel.close().syncUninterruptibly();
      }
    }
    long deadline = System.nanoTime() + drain.toNanos();
    int open = connections.size();
    if (open > 0) {
      log.info("Shutting down: stopped accepting; waiting up to {} for {} connection(s) to finish",
          drain, open);
    }
    while (!connections.isEmpty() && System.nanoTime() < deadline && !endDrain) {
      try {
        Thread.sleep(Math.min(50, Math.max(1, (deadline - System.nanoTime()) / 1_000_000)));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    List<Channel> left = new ArrayList<>(connections);
    for (Channel ch : left) {
      ch.eventLoop().execute(() -> {
        Connection conn = Connection.of(ch);
        if (conn != null) {
          conn.closeReason(CloseReason.SHUTDOWN, "still open after the drain (" + drain + ")");
        }
        ch.close();
      });
    }
    if (!left.isEmpty()) {
      log.info("Shutting down: closed {} connection(s) still open after {}", left.size(), drain);
      for (Channel ch : left) {
        ch.closeFuture().awaitUninterruptibly(1, TimeUnit.SECONDS);
      }
    } else if (open > 0) {
      log.info("Shutting down: every connection finished");
    }
    close();
    return left.size();
  }

  /** Ends a {@link #shutdown} drain now (a second SIGTERM or Ctrl-C): the rest are closed. */
  public void endDrainNow() {
    endDrain = true;
  }

  /** Stops accepting, closes every connection and stops the event loops. Idempotent. */
  @Override
  public void close() {
    synchronized (this) {
      shuttingDown = true;
      for (BoundListener b : listeners.values()) {
        b.channel.close().awaitUninterruptibly();
      }
    }
    acceptors.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    workers.shutdownGracefully(0, 2, TimeUnit.SECONDS);
    acceptors.terminationFuture().awaitUninterruptibly(5, TimeUnit.SECONDS);
    workers.terminationFuture().awaitUninterruptibly(5, TimeUnit.SECONDS);
    health.close();
    accessLog.close(); // lines still queued reach the output before it is detached
    synchronized (this) {
      accessLogOutput.close();
    }
  }
}
