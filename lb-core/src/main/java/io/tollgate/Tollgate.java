package io.tollgate;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.tollgate.accesslog.AccessLog;
import io.tollgate.accesslog.AccessLogOutput;
import io.tollgate.acme.AcmeManager;
import io.tollgate.acme.HttpChallenges;
import io.tollgate.config.ConfigError;
import io.tollgate.config.ConfigException;
import io.tollgate.config.IoConfig;
import io.tollgate.config.TollgateConfig;
import io.tollgate.connection.CloseReason;
import io.tollgate.dns.DnsCounters;
import io.tollgate.dns.DnsLookups;
import io.tollgate.handshake.HandshakeThreads;
import io.tollgate.handshake.ThreadPriority;
import io.tollgate.health.HealthChecker;
import io.tollgate.limits.ConnectionLimits;
import io.tollgate.listener.InheritedSockets;
import io.tollgate.listener.Listeners;
import io.tollgate.listener.OpenConnections;
import io.tollgate.listener.Readiness;
import io.tollgate.listener.Transport;
import io.tollgate.metrics.Metrics;
import io.tollgate.snapshot.Snapshot;
import io.tollgate.warmup.SelfWarmup;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running Tollgate: its lifecycle. Owns the event loops, the {@link Listeners}, the {@link
 * Snapshot} in force and what outlives snapshots (server health, limits, access log).
 *
 * <p>{@link #start} binds every listener or fails without leaving anything running; {@link #reload}
 * puts a new snapshot in force for new connections and binds/unbinds listeners that were added,
 * removed or moved; {@link #shutdown} withdraws {@link #readiness}, stops accepting (after an
 * optional withdraw period) and lets connections finish for a while; {@link #close} stops accepting
 * and closes everything.
 */
public final class Tollgate implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Tollgate.class);

  private final Transport transport;

  /** The worker loops running (io.worker-threads, 0 resolved to the cores). */
  private final int workerThreads;

  /** The io settings this process started with: transport, threads and accept are fixed. */
  private final IoConfig startedWith;

  private final EventLoopGroup acceptors;
  private final EventLoopGroup workers;
  private final Metrics metrics = new Metrics();
  private final Listeners listeners;
  private final HandshakeThreads handshakeThreads;

  /** Outlives snapshots: server health is keyed by pool and address and survives reloads. */
  private final HealthChecker health;

  /** Outlives snapshots: lookups per pool and outcome, for tollgate_dns_resolutions_total. */
  private final DnsCounters dnsCounters;

  /** The resolver of DNS-aware pools; replaced by a reload that changes tollgate.dns. */
  private volatile DnsLookups dns;

  /** Outlives snapshots: connections open under an old config keep counting. */
  private final ConnectionLimits limits;

  private final AccessLog accessLog = new AccessLog(metrics::accessLogDropped);
  private AccessLogOutput accessLogOutput;
  private volatile Snapshot snapshot;
  private volatile long configVersion = 1;
  private volatile Instant configLoadedAt = Instant.now();
  private volatile boolean shuttingDown;

  /** An upgrade is handing the listening sockets over (guarded by this). */
  private boolean upgrading;

  private final Readiness readiness = new Readiness();
  private volatile SelfWarmup.Result warmup;

  /** Outlives snapshots: ACME certificates and orders in progress survive reloads. */
  private final AcmeManager acme;

  /**
   * Completed by {@link #hurryShutdown} during the withdraw period (the drain starts), and by
   * {@link #shutdown} itself when the drain starts, so a later hurry ends the drain instead.
   */
  private final CompletableFuture<Void> endWithdraw = new CompletableFuture<>();

  /** Completed by {@link #hurryShutdown} during the drain: it stops waiting. */
  private final CompletableFuture<Void> endDrain = new CompletableFuture<>();

  private Tollgate(
      Transport transport,
      InheritedSockets inherited,
      int workerThreads,
      Snapshot snapshot,
      HealthChecker health,
      AcmeManager acme,
      DnsLookups dns) {
    this.transport = transport;
    this.startedWith = snapshot.config().io();
    this.snapshot = snapshot;
    this.health = health;
    this.acme = acme;
    acme.registerMetrics(metrics.registry());
    this.dns = dns;
    this.dnsCounters = dns.counters();
    this.limits = new ConnectionLimits(snapshot.config());
    limits.handshakes().registerMetrics(metrics.registry());
    limits.tarpit().registerMetrics(metrics.registry());
    this.accessLogOutput = AccessLogOutput.start(snapshot.config().accessLog(), accessLog);
    this.metrics.snapshotSource(() -> this.snapshot);
    this.metrics.dnsSource(dnsCounters);
    this.acceptors = transport.newGroup(1, "accept");
    IoConfig io = snapshot.config().io();
    int handshakeThreadCount = resolveHandshakeThreads(io, workerThreads);
    // io.handshake-threads: their loops take tasks from a queue that never waits for a producer
    // (WorkerLoopGroup), since these threads hand steps back at a lower priority.
    this.workers = transport.newGroup(workerThreads, "worker", handshakeThreadCount > 0);
    this.handshakeThreads =
        handshakeThreadCount == 0
            ? null
            : new HandshakeThreads(
                handshakeThreadCount, io.handshakePriority(), io.handshakeThreadsWhen());
    if (handshakeThreads != null) {
      handshakeThreads.registerMetrics(metrics.registry());
      log.info(
          "ClientHello steps on {} handshake thread(s) at {} priority when {} (io.handshake-threads)",
          handshakeThreads.size(),
          handshakeThreads.level().name().toLowerCase(java.util.Locale.ROOT),
          io.handshakeThreadsWhen().name().toLowerCase(java.util.Locale.ROOT));
    }
    this.workerThreads = workerThreads;
    this.listeners =
        new Listeners(
            transport,
            inherited,
            // io.accept: a listener's server channel on a worker loop by default (see IoConfig).
            snapshot.config().io().accept() == IoConfig.Accept.WORKER ? workers : acceptors,
            workers,
            () -> this.snapshot,
            metrics,
            limits,
            accessLog,
            handshakeThreads);
    // http listeners answer the ACME client's pending http-01 challenges.
    listeners.httpChallenges(acme);
    // Process ticket keys rotate every 12 h (no key file); look once a minute. On the acceptor
    // loop, not a worker: installing keys takes each context's write lock, briefly.
    acceptors.scheduleAtFixedRate(
        () -> {
          if (this.snapshot.tls().refreshTicketKeys()) {
            log.info("rotated the session-ticket keys of this process");
          }
        },
        1,
        1,
        TimeUnit.MINUTES);
  }

  /** Starts with the transport the config asks for. */
  public static Tollgate start(TollgateConfig config) throws ConfigException, InterruptedException {
    return start(config, config.io().transport());
  }

  /**
   * Builds the snapshot, starts the event loops and binds every listener.
   *
   * @param transport overrides {@code io.transport} (the CLI's {@code --nio})
   * @throws ConfigException when a certificate, key or CA file cannot be used
   * @throws IllegalStateException when a listener cannot bind; nothing is left running
   */
  public static Tollgate start(TollgateConfig config, IoConfig.Transport transport)
      throws ConfigException, InterruptedException {
    return start(config, transport, InheritedSockets.none());
  }

  /**
   * As {@link #start(TollgateConfig, IoConfig.Transport)}, with listening sockets handed over by
   * systemd or by the process this one replaces: a listener adopts the socket named for it, or the
   * one bound to its address, instead of binding a new one. Sockets no listener takes are closed.
   *
   * @throws IllegalStateException also when there are inherited sockets and the transport is not
   *     epoll
   */
  public static Tollgate start(
      TollgateConfig config, IoConfig.Transport transport, InheritedSockets inherited)
      throws ConfigException, InterruptedException {
    return start(config, transport, inherited, false);
  }

  /**
   * As {@link #start(TollgateConfig, IoConfig.Transport, InheritedSockets)}; {@code server} says
   * this process runs as a server ({@code tollgate run}), which is what {@code warmup.handshakes =
   * auto} decides by ({@link io.tollgate.config.OpsConfig#handshakeWarmup}).
   */
  public static Tollgate start(
      TollgateConfig config,
      IoConfig.Transport transport,
      InheritedSockets inherited,
      boolean server)
      throws ConfigException, InterruptedException {
    if (inherited.remaining() > 0
        && (transport == IoConfig.Transport.NIO || transport == IoConfig.Transport.IO_URING)) {
      // Said before the transport is looked for: the sockets are the reason, whatever is here.
      throw new IllegalStateException(
          "inherited listening sockets need the epoll transport, not " + transport.configName());
    }
    Transport selected = Transport.select(transport);
    if (inherited.remaining() > 0 && !selected.name().equals("epoll")) {
      throw new IllegalStateException(
          "inherited listening sockets need the epoll transport, not " + selected.name());
    }
    HealthChecker health = new HealthChecker();
    AcmeManager acme = new AcmeManager();
    DnsLookups dns = DnsLookups.start(config.dns(), new DnsCounters());
    Snapshot snapshot;
    try {
      acme.prepare(config);
      snapshot = Snapshot.build(config, health, selected.socketChannel(), acme, dns);
      snapshot.commitHealth();
    } catch (ConfigException | RuntimeException e) {
      health.close();
      acme.close();
      dns.close();
      throw e;
    }
    logWarnings(snapshot);
    int threads =
        config.io().workerThreads() > 0
            ? config.io().workerThreads()
            : Runtime.getRuntime().availableProcessors();
    Tollgate tollgate = new Tollgate(selected, inherited, threads, snapshot, health, acme, dns);
    try {
      tollgate.warmUp(config.ops().handshakeWarmup(server));
      tollgate.listeners.bind(config.listeners());
      inherited.closeUnclaimed();
      acme.commit(config);
    } catch (RuntimeException e) {
      tollgate.close();
      throw e;
    }
    log.info(
        "Tollgate started: {}, {} route(s), {} pool(s), transport {}, {} worker thread(s)",
        tollgate.listeners.describe(),
        config.routes().size(),
        config.pools().size(),
        tollgate.transport.name(),
        threads);
    return tollgate;
  }

  /**
   * Pays the JIT warm-up before any client is accepted ({@code tollgate.warmup}, see {@link
   * SelfWarmup}): {@link #start} calls it after the TLS contexts are built and before the listeners
   * bind or adopt inherited sockets, so a start or an upgrade is ready only once it is warm.
   */
  void warmUp(int handshakes) throws InterruptedException {
    if (handshakes > 0) {
      warmup = SelfWarmup.run(transport, acceptors, workers, handshakes);
    }
  }

  /**
   * What the start-up warm-up did; empty when there was none ({@code warmup.handshakes} 0, or
   * {@code auto} in a process not started as a server).
   */
  public Optional<SelfWarmup.Result> warmup() {
    return Optional.ofNullable(warmup);
  }

  /**
   * Routes new connections with a new config; connections already routed keep their route and
   * backend, and are never cut by a reload. Listeners are matched by name: one whose address is
   * unchanged stays bound (its new connections get the new timeouts and limits), a new or moved one
   * is bound, and one no longer in the config stops accepting (its open connections continue). All
   * of it happens, or none: the old config stays in force when anything fails.
   *
   * @throws ConfigException when the new config cannot be turned into a snapshot or a listener
   *     cannot be bound; the old config stays in force
   */
  public synchronized void reload(TollgateConfig config) throws ConfigException {
    if (shuttingDown) {
      throw new ConfigException(
          List.of(
              new ConfigError(
                  config.source(), "tollgate", "Tollgate is shutting down; not reloading")));
    }
    if (upgrading) {
      throw new ConfigException(
          List.of(
              new ConfigError(
                  config.source(),
                  "tollgate",
                  "an upgrade is in progress; not reloading (the new process loads the config"
                      + " file as it starts: reload it after the upgrade if the file changed"
                      + " since)")));
    }
    DnsLookups nextDns =
        config.dns().equals(dns.config()) ? dns : DnsLookups.start(config.dns(), dnsCounters);
    Snapshot next;
    long started = System.nanoTime();
    try {
      acme.prepare(config);
      next = Snapshot.build(config, health, transport.socketChannel(), acme, nextDns, snapshot);
    } catch (ConfigException | RuntimeException e) {
      closeIfNew(nextDns);
      metrics.reloaded(false);
      throw e;
    }
    long built = System.nanoTime();
    logWarnings(next);
    Runnable startAccepting;
    try {
      startAccepting = listeners.reload(config);
    } catch (ConfigException e) {
      // The new snapshot's health plan is never committed: the checker still follows the
      // servers of the config in force, exactly as before.
      closeIfNew(nextDns);
      metrics.reloaded(false);
      throw e;
    }
    limits.apply(config);
    accessLogOutput = accessLogOutput.reconfigure(config.accessLog(), accessLog);
    Snapshot previous = snapshot;
    List<ConfigError> startOnly = startOnlyChanges(config);
    if (!startOnly.isEmpty()) {
      startOnly.forEach(w -> log.warn("config warning: {}", w));
      next = next.withWarnings(startOnly);
    }
    previous.retire(); // its DNS and admin changes stop before the new servers are committed
    next.commitHealth();
    snapshot = next;
    acme.commit(config);
    if (nextDns != dns) {
      DnsLookups old = dns;
      dns = nextDns;
      old.close();
    }
    startAccepting.run();
    metrics.reloaded(true);
    configVersion++;
    configLoadedAt = Instant.now();
    log.info(
        "Reloaded {} (config version {}): {}, {} route(s), {} pool(s); snapshot built in {} ms,"
            + " put in force in {} ms",
        config.source(),
        configVersion,
        listeners.describe(),
        config.routes().size(),
        config.pools().size(),
        (built - started) / 1_000_000,
        (System.nanoTime() - built) / 1_000_000);
  }

  /**
   * Builds the snapshot {@link #reload} would build for {@code config}, against the one in force,
   * and drops it: nothing is put in force, no listener, limit, health check or ACME order changes.
   * What it is for: the JIT learns the reload path before the first real reload ({@code
   * warmup.reloads}). Building and dropping is what a reload refused after its snapshot was built
   * already does.
   *
   * <p>No name server is asked anything ({@link Snapshot#rehearse}).
   *
   * @return false when shutting down
   * @throws ConfigException as {@link #reload}
   */
  public synchronized boolean rehearseReload(TollgateConfig config) throws ConfigException {
    if (shuttingDown) {
      return false;
    }
    // Retired as a replaced snapshot is: its own pool server sets (never started) stop, and the
    // 10,000-pool loop a real reload runs there is compiled before the first one.
    Snapshot.rehearse(config, health, transport.socketChannel(), acme, snapshot).retire();
    limits.rehearse(config);
    return true;
  }

  private void closeIfNew(DnsLookups lookups) {
    if (lookups != dns) {
      lookups.close();
    }
  }

  private static void logWarnings(Snapshot snapshot) {
    snapshot.warnings().forEach(w -> log.warn("config warning: {}", w));
  }

  /**
   * A reload cannot move connections to other event loops: io.transport, worker-threads and accept
   * keep what the process started with. Said at every reload that asks otherwise, as warnings of
   * the config in force (log, {@code /status}), rather than ignored silently; the rest applies.
   */
  private List<ConfigError> startOnlyChanges(TollgateConfig config) {
    IoConfig next = config.io();
    List<ConfigError> out = new ArrayList<>();
    String restart = " (read at start only: takes effect at the next start or upgrade)";
    // Against what runs: auto is epoll here, and `run --nio` overrides the file.
    boolean sameTransport =
        next.transport() == startedWith.transport()
            || (next.transport() == IoConfig.Transport.AUTO
                ? transport.name().equals(Epoll.isAvailable() ? "epoll" : "nio")
                : next.transport().configName().equals(transport.name()));
    if (!sameTransport) {
      // Not "or upgrade": an upgrade hands epoll sockets to an epoll process only.
      out.add(
          new ConfigError(
              config.source(),
              "tollgate.io.transport",
              transport.name()
                  + " stays in force, not "
                  + next.transport().configName()
                  + " (read at start only: takes effect at the next start)"));
    }
    // Against the loops that run: 0 is one per core.
    int wanted =
        next.workerThreads() > 0
            ? next.workerThreads()
            : Runtime.getRuntime().availableProcessors();
    if (wanted != workerThreads) {
      out.add(
          new ConfigError(
              config.source(),
              "tollgate.io.worker-threads",
              workerThreads
                  + " stays in force, not "
                  + (next.workerThreads() > 0 ? wanted : "0 (" + wanted + ", one per core)")
                  + restart));
    }
    if (next.accept() != startedWith.accept()) {
      out.add(
          new ConfigError(
              config.source(),
              "tollgate.io.accept",
              startedWith.accept().name().toLowerCase(java.util.Locale.ROOT)
                  + " stays in force, not "
                  + next.accept().name().toLowerCase(java.util.Locale.ROOT)
                  + restart));
    }
    if (next.handshakeThreads() != startedWith.handshakeThreads()
        || next.handshakePriority() != startedWith.handshakePriority()
        || next.handshakeThreadsWhen() != startedWith.handshakeThreadsWhen()) {
      out.add(
          new ConfigError(
              config.source(),
              "tollgate.io.handshake-threads",
              describeHandshakeThreads(startedWith)
                  + " stays in force, not "
                  + describeHandshakeThreads(next)
                  + restart));
    }
    return out;
  }

  private static String describeHandshakeThreads(IoConfig io) {
    return (io.handshakeThreads() == IoConfig.HANDSHAKE_THREADS_AUTO
            ? "auto"
            : Integer.toString(io.handshakeThreads()))
        + " ("
        + io.handshakePriority().name().toLowerCase(java.util.Locale.ROOT)
        + ", "
        + io.handshakeThreadsWhen().name().toLowerCase(java.util.Locale.ROOT)
        + ")";
  }

  /**
   * Where http listeners ({@code protocol = http}) get the answers to ACME http-01 challenges from:
   * the ACME client's pending ones. {@link HttpChallenges#NONE} until set.
   */
  public void httpChallenges(HttpChallenges challenges) {
    listeners.httpChallenges(challenges);
  }

  /**
   * {@code io.handshake-threads} resolved: {@code auto} is one thread per worker loop where a
   * thread's priority can be lowered (Linux with util-linux), none elsewhere.
   */
  static int resolveHandshakeThreads(IoConfig io, int workerLoops) {
    if (io.handshakeThreads() != IoConfig.HANDSHAKE_THREADS_AUTO) {
      return io.handshakeThreads();
    }
    if (!ThreadPriority.available(io.handshakePriority())) {
      log.info(
          "io.handshake-threads = auto: none (no /proc/thread-self or util-linux's chrt/renice"
              + " to lower their priority); the loops run every ClientHello step, paced");
      return 0;
    }
    return Math.min(workerLoops, IoConfig.MAX_HANDSHAKE_THREADS);
  }

  /** The handshake threads ({@code io.handshake-threads}), or null with none. */
  public HandshakeThreads handshakeThreads() {
    return handshakeThreads;
  }

  /**
   * ClientHello steps run on {@code io.handshake-threads} so far (0 without them). Also in the
   * metrics as {@code tollgate_handshake_thread_steps_total}.
   */
  public long handshakeThreadSteps() {
    return handshakeThreads == null ? 0 : handshakeThreads.stepsRun();
  }

  /** The address a listener is bound to; with port 0 in config, the port the OS chose. */
  public InetSocketAddress address(String listenerName) {
    return listeners.address(listenerName);
  }

  /** Every bound listener's name and address, in config order. */
  public Map<String, InetSocketAddress> addresses() {
    return listeners.addresses();
  }

  /** 1 at start, one more after each successful reload. */
  public long configVersion() {
    return configVersion;
  }

  /** When the config in force was loaded (start or last successful reload). */
  public Instant configLoadedAt() {
    return configLoadedAt;
  }

  /**
   * The listening sockets by listener name, for the process that replaces this one (epoll only).
   */
  public Map<String, Integer> listeningSockets() {
    return listeners.sockets();
  }

  /**
   * Marks an upgrade running ({@code true}) or failed ({@code false}). It hands this process's
   * listening sockets to the new process by their numbers, read when it began: a reload meanwhile
   * could close a listener and let its number name another socket by the time it is sent, so
   * reloads are refused while it runs.
   */
  public synchronized void upgrading(boolean running) {
    upgrading = running;
  }

  /**
   * Stops accepting because another process accepts on the same sockets now (an upgrade): this
   * process's copies close, the sockets and their queues stay open in the other. Reloads are
   * refused from here on; open connections go on until {@link #shutdown}.
   */
  public void stopAccepting() {
    synchronized (this) {
      shuttingDown = true;
      listeners.close();
    }
  }

  /**
   * Whether {@link #shutdown} has begun: withdrawing (not ready, still accepting), or listeners
   * closed and connections draining. Reloads are refused from then on.
   */
  public boolean isShuttingDown() {
    return shuttingDown;
  }

  /**
   * What {@code GET /ready} answers: ready until a stop or an upgrade withdraws it. {@link
   * #shutdown} withdraws it for good as it begins; an upgrade may withdraw it and restore it if the
   * new process fails.
   */
  public Readiness readiness() {
    return readiness;
  }

  /** Client connections open now. */
  public int openConnections() {
    return listeners.connections().size();
  }

  /**
   * Puts a server into drain (no new connections; open ones continue) or takes it out. Lasts across
   * reloads while the server stays in the pool.
   *
   * @return false if the pool or the server is not in the current config
   */
  public boolean drain(String pool, InetSocketAddress server, boolean on) {
    var p = snapshot.pools().get(pool);
    return p != null && p.drain(server, on);
  }

  /** The connection limits and what they count now. */
  public ConnectionLimits limits() {
    return limits;
  }

  public Metrics metrics() {
    return metrics;
  }

  /** The ACME client of {@code certificate = acme} routes (state for /status, metrics). */
  public AcmeManager acme() {
    return acme;
  }

  /** The http-01 answers for a {@code protocol = http} listener. */
  public HttpChallenges httpChallenges() {
    return acme;
  }

  public Snapshot snapshot() {
    return snapshot;
  }

  public String transportName() {
    return transport.name();
  }

  /** {@link #shutdown(Duration, Duration)} without a withdraw period. */
  public int shutdown(Duration drain) {
    return shutdown(Duration.ZERO, drain);
  }

  /**
   * Graceful stop (SIGTERM): withdraws {@link #readiness} at once, keeps accepting for {@code
   * withdraw} (so a health check in front sees {@code /ready} fail and sends new connections
   * elsewhere before the port closes), then closes every listener so nothing new is accepted, waits
   * up to {@code drain} for open connections to finish, closes those still open with reason {@link
   * CloseReason#SHUTDOWN}, then {@link #close}s. {@link #hurryShutdown} cuts either wait short.
   *
   * @param withdraw zero closes the listeners at once
   * @return how many connections were cut when the drain ran out
   */
  public int shutdown(Duration withdraw, Duration drain) {
    synchronized (this) {
      shuttingDown = true;
    }
    readiness.withdrawForGood("shutdown");
    if (!withdraw.isZero() && !withdraw.isNegative() && !endWithdraw.isDone()) {
      log.info(
          "Shutting down: not ready; still accepting for {} (timeouts.withdraw) so balancers"
              + " in front stop sending new connections",
          withdraw);
      await(endWithdraw, withdraw);
    }
    endWithdraw.complete(null);
    synchronized (this) {
      listeners.close();
    }
    OpenConnections open = listeners.connections();
    int before = open.size();
    if (before > 0) {
      log.info(
          "Shutting down: stopped accepting; waiting up to {} for {} connection(s) to finish",
          drain,
          before);
    }
    int cut = 0;
    if (!open.awaitClosed(drain, endDrain)) {
      cut = open.closeAll(CloseReason.SHUTDOWN, "still open after the drain (" + drain + ")");
      log.info("Shutting down: closed {} connection(s) still open after {}", cut, drain);
    } else if (before > 0) {
      log.info("Shutting down: every connection finished");
    }
    close();
    return cut;
  }

  /**
   * Cuts the phase of a {@link #shutdown} in progress short (another SIGTERM or Ctrl-C): during the
   * withdraw period the listeners close and the drain starts now; during the drain the connections
   * still open are closed now. Before the shutdown has begun, it skips the withdraw period.
   */
  public void hurryShutdown() {
    if (endWithdraw.complete(null)) {
      log.info("Shutting down: withdraw period cut short; closing the listeners now");
    } else if (endDrain.complete(null)) {
      log.info("Shutting down: drain cut short; closing the remaining connections now");
    }
  }

  /** Waits until {@code done} completes or {@code limit} passes; an interrupt ends it too. */
  private static void await(CompletableFuture<?> done, Duration limit) {
    try {
      done.get(limit.toNanos(), TimeUnit.NANOSECONDS);
    } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
      // the period is over
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Stops accepting, closes every connection and stops the event loops. Idempotent. */
  @Override
  public void close() {
    readiness.withdrawForGood("shutdown");
    synchronized (this) {
      shuttingDown = true;
      listeners.close();
    }
    acceptors.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    workers.shutdownGracefully(0, 2, TimeUnit.SECONDS);
    acceptors.terminationFuture().awaitUninterruptibly(5, TimeUnit.SECONDS);
    workers.terminationFuture().awaitUninterruptibly(5, TimeUnit.SECONDS);
    if (handshakeThreads != null) {
      handshakeThreads.close();
    }
    snapshot.retire();
    health.close();
    acme.close();
    dns.close();
    accessLog.close(); // lines still queued reach the output before it is detached
    synchronized (this) {
      accessLogOutput.close();
    }
  }
}
