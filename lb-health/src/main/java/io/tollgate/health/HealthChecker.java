package io.tollgate.health;

import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.NetUtil;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.tollgate.config.BackendProxyProtocol;
import io.tollgate.config.BackendTlsConfig;
import io.tollgate.config.HealthCheckConfig;
import io.tollgate.config.HostPort;
import io.tollgate.config.PassiveEjectionConfig;
import java.net.InetAddress;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns the health of every server of every pool: one {@link ServerState} per {@link ServerKey}
 * (pool, address), a {@link Monitor} for each server whose pool has a {@code health-check}, and
 * passive ejection.
 *
 * <p>Probes run on one event loop of their own (NIO, thread {@code tollgate-health-1}), never on
 * the data path's loops, at most {@link #DEFAULT_MAX_CONCURRENT_PROBES} at a time. The checker
 * lives as long as the process, not a config snapshot: {@link #prepare} and {@link Plan#commit}
 * reconcile it with each new config, so unchanged servers keep their state across a reload, and a
 * reload rejected before its commit changes nothing.
 */
public final class HealthChecker implements PassiveSignals, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger("io.tollgate.health");
  public static final int DEFAULT_MAX_CONCURRENT_PROBES = 64;

  /**
   * One server of one pool as the config describes it.
   *
   * @param configured the address as written (logs, default Host header and SNI)
   * @param check the pool's health check, if any
   * @param tls the pool's backend TLS settings (its {@code server-name} is the probes' default)
   * @param probeTls opens tls/https probes with the pool's trust; null for tcp/http checks (or
   *     none: a tls/https check without it fails, saying so)
   * @param source the pool's {@code source}: probes bind to it as backend connections do, so a
   *     backend that admits only that address sees its probes; empty: the kernel's choice
   */
  public record Target(
      ServerKey key,
      HostPort configured,
      Optional<HealthCheckConfig> check,
      PassiveEjectionConfig passive,
      Optional<BackendTlsConfig> tls,
      BackendProxyProtocol.Version proxyProtocol,
      ProbeTls probeTls,
      Optional<InetAddress> source) {
    /** A target whose probes send no PROXY header, open no TLS and bind to no source. */
    public Target(
        ServerKey key,
        HostPort configured,
        Optional<HealthCheckConfig> check,
        PassiveEjectionConfig passive,
        Optional<BackendTlsConfig> tls) {
      this(
          key,
          configured,
          check,
          passive,
          tls,
          BackendProxyProtocol.Version.OFF,
          null,
          Optional.empty());
    }

    public Target {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(configured, "configured");
      Objects.requireNonNull(check, "check");
      Objects.requireNonNull(passive, "passive");
      Objects.requireNonNull(tls, "tls");
      Objects.requireNonNull(proxyProtocol, "proxyProtocol");
      Objects.requireNonNull(source, "source");
    }

    /**
     * The parts that decide how the server is probed; a change restarts its monitor. The {@code
     * probeTls} of an unchanged target is swapped into the running monitor instead (a reload
     * re-reads the CA files).
     */
    private boolean probesLike(Target other) {
      return check.equals(other.check)
          && tls.equals(other.tls)
          && configured.equals(other.configured)
          && proxyProtocol == other.proxyProtocol
          && source.equals(other.source);
    }
  }

  private static final class Entry {
    final ServerState state;
    volatile Target target;

    /** Written under the checker's lock; read without it by the backoff task. */
    volatile Monitor monitor;

    Entry(ServerState state, Target target) {
      this.state = state;
      this.target = target;
    }
  }

  private final EventLoopGroup group;
  private final boolean ownsGroup;
  private final EventLoop loop;
  private final LongSupplier ticker;
  private final Random random;
  private final ProbeLimiter limiter;
  private final Map<ServerKey, Entry> entries = new ConcurrentHashMap<>();

  /** Commits so far; a plan may be committed only if none came after it was prepared. */
  private long generation;

  private volatile boolean closed;

  /** A checker with its own single-threaded NIO event loop and the system clock. */
  public HealthChecker() {
    this(
        new MultiThreadIoEventLoopGroup(
            1, new DefaultThreadFactory("tollgate-health", true), NioIoHandler.newFactory()),
        true,
        System::nanoTime,
        new Random(),
        DEFAULT_MAX_CONCURRENT_PROBES);
  }

  /**
   * @param group where probes run (one of its loops); NIO channels are used
   * @param ownsGroup whether {@link #close} shuts the group down
   * @param ticker nanosecond clock for slow start (tests inject one)
   * @param maxConcurrentProbes probes running at once, at least 1
   */
  public HealthChecker(
      EventLoopGroup group,
      boolean ownsGroup,
      LongSupplier ticker,
      Random random,
      int maxConcurrentProbes) {
    this.group = group;
    this.ownsGroup = ownsGroup;
    this.loop = group.next();
    this.ticker = ticker;
    this.random = random;
    this.limiter = new ProbeLimiter(maxConcurrentProbes);
  }

  /**
   * Makes the checker follow a new config at once: {@link #prepare} then {@link Plan#commit}.
   *
   * @return the state of every target, by key
   */
  public Map<ServerKey, ServerState> apply(Collection<Target> targets) {
    Plan plan = prepare(targets);
    plan.commit();
    return plan.states();
  }

  /**
   * The states a new config's servers will have, without changing anything yet: a server the
   * checker already follows keeps its state; a new one gets a fresh state (up, or the check's
   * {@code initial}). A reload builds its pools on these states and commits the plan only once
   * nothing can fail any more, so a rejected reload leaves every server probed exactly as before.
   */
  public synchronized Plan prepare(Collection<Target> targets) {
    if (closed) {
      throw new IllegalStateException("health checker is closed");
    }
    // Sized once: 10,000 servers a reload otherwise rehash each map a dozen times.
    int capacity = targets.size() * 4 / 3 + 1;
    Map<ServerKey, ServerState> states = new LinkedHashMap<>(capacity);
    Map<ServerKey, Target> byKey = new LinkedHashMap<>(capacity);
    for (Target t : targets) {
      if (byKey.putIfAbsent(t.key(), t) != null) {
        continue; // same address twice: one state
      }
      Entry e = entries.get(t.key());
      ServerState state =
          e != null
              ? e.state
              : new ServerState(t.key(), t.configured().toString(), initiallyUp(t), ticker);
      states.put(t.key(), state);
    }
    return new Plan(byKey, states, generation);
  }

  /** A prepared set of servers; see {@link #prepare}. */
  public final class Plan {
    private final Map<ServerKey, Target> targets;
    private final Map<ServerKey, ServerState> states;
    private final long preparedAt;

    private Plan(
        Map<ServerKey, Target> targets, Map<ServerKey, ServerState> states, long preparedAt) {
      this.targets = targets;
      // Not copied: nothing else holds the map (10,000 servers per reload).
      this.states = java.util.Collections.unmodifiableMap(states);
      this.preparedAt = preparedAt;
    }

    /** The state of every target, by key. */
    public Map<ServerKey, ServerState> states() {
      return states;
    }

    /**
     * Puts the plan in force: new servers start being probed; servers no longer in it stop;
     * unchanged servers keep their state, and their monitor restarts only if their check changed.
     *
     * @throws IllegalStateException when another plan was committed since this one was prepared
     */
    public void commit() {
      commitPlan(this);
    }

    /**
     * The checker's generation once this plan is committed: what {@link #updatePool} expects while
     * this plan's config is in force.
     */
    public long committedGeneration() {
      return preparedAt + 1;
    }

    /** The checker this plan is for. */
    public HealthChecker checker() {
      return HealthChecker.this;
    }
  }

  /**
   * Changes one pool's servers while its config stays in force (DNS records changed, the admin API
   * added or removed a server): servers new to the pool get a state (and a monitor if the pool has
   * a check), servers no longer in it lose theirs, the others keep theirs. Does nothing when a
   * reload committed since {@code generation}: the pool asking is no longer the one in force.
   *
   * @param generation {@link Plan#committedGeneration()} of the plan the pool was built with
   * @return the state of every target of the pool, by key; empty when the pool is stale
   */
  public synchronized Optional<Map<ServerKey, ServerState>> updatePool(
      String pool, Collection<Target> targets, long generation) {
    if (closed || generation != this.generation) {
      return Optional.empty();
    }
    Map<ServerKey, Target> byKey = new LinkedHashMap<>();
    for (Target t : targets) {
      if (!t.key().pool().equals(pool)) {
        throw new IllegalArgumentException(t.key() + " is not in pool " + pool);
      }
      byKey.putIfAbsent(t.key(), t);
    }
    Map<ServerKey, ServerState> states = new LinkedHashMap<>();
    for (Target t : byKey.values()) {
      Entry e = entries.get(t.key());
      if (e == null) {
        ServerState state =
            new ServerState(t.key(), t.configured().toString(), initiallyUp(t), ticker);
        e = new Entry(state, t);
        entries.put(t.key(), e);
        if (t.check().isPresent()) {
          e.monitor = startMonitor(t, state, !state.isUp());
        }
        log.debug("pool {} server {}: added at run time", pool, state.label());
      }
      states.put(t.key(), e.state);
    }
    for (var it = entries.entrySet().iterator(); it.hasNext(); ) {
      var en = it.next();
      if (en.getKey().pool().equals(pool) && !byKey.containsKey(en.getKey())) {
        if (en.getValue().monitor != null) {
          en.getValue().monitor.stop();
        }
        it.remove();
        log.debug(
            "pool {} server {}: removed at run time, not checked any more",
            pool,
            en.getValue().state.label());
      }
    }
    return Optional.of(states);
  }

  private synchronized void commitPlan(Plan plan) {
    if (closed) {
      throw new IllegalStateException("health checker is closed");
    }
    if (plan.preparedAt != generation) {
      throw new IllegalStateException("a health plan was committed after this one was prepared");
    }
    generation++;
    for (Target t : plan.targets.values()) {
      Entry e = entries.get(t.key());
      if (e != null && e.target == t) {
        // The very target the checker follows (a pool a reload took over whole): updatePool
        // replaces an entry with targets of its own, so this entry is the one prepared.
        continue;
      }
      if (e != null && e.state != plan.states.get(t.key())) {
        // Added by updatePool after this plan was prepared: the plan's pools hold the plan's
        // state, so that one is followed.
        if (e.monitor != null) {
          e.monitor.stop();
        }
        entries.remove(t.key());
        e = null;
      }
      if (e == null) {
        ServerState state = plan.states.get(t.key());
        e = new Entry(state, t);
        entries.put(t.key(), e);
        if (t.check().isPresent()) {
          e.monitor = startMonitor(t, e.state, !state.isUp());
        }
      } else if (!e.target.probesLike(t)) {
        if (e.monitor != null) {
          e.monitor.stop();
          e.monitor = null;
        }
        if (t.check().isPresent()) {
          e.monitor = startMonitor(t, e.state, false);
        } else {
          e.state.markUp("health check removed from the config", false);
        }
        e.target = t;
      } else {
        if (e.monitor != null) {
          e.monitor.useTls(t.probeTls());
        }
        e.target = t;
      }
    }
    // Every target of the plan has its entry now: more entries than targets means some servers
    // left the config. Without that, the walk is skipped (10,000 servers per reload).
    if (entries.size() == plan.targets.size()) {
      return;
    }
    for (var it = entries.entrySet().iterator(); it.hasNext(); ) {
      var en = it.next();
      if (!plan.targets.containsKey(en.getKey())) {
        if (en.getValue().monitor != null) {
          en.getValue().monitor.stop();
        }
        it.remove();
        log.debug(
            "pool {} server {}: no longer in the config, not checked any more",
            en.getKey().pool(),
            en.getValue().state.label());
      }
    }
  }

  private static boolean initiallyUp(Target t) {
    return t.check().map(c -> c.initial() == HealthCheckConfig.Initial.UP).orElse(true);
  }

  /** The current state of a server, if the config has it. */
  public Optional<ServerState> state(ServerKey key) {
    Entry e = entries.get(key);
    return e == null ? Optional.empty() : Optional.of(e.state);
  }

  /**
   * Passive signal from the data path: connecting to the server failed. Enough failures in a row
   * ({@code passive-ejection.failures}) mark it down at once; without an active check it is marked
   * up again after {@code backoff}.
   */
  @Override
  public void connectFailed(ServerState state, String why) {
    Entry e = entries.get(state.key());
    if (e == null || e.state != state) {
      return; // a server no longer in the config
    }
    PassiveEjectionConfig passive = e.target.passive();
    if (!passive.enabled()) {
      return;
    }
    int n = state.connectFailed();
    if (n >= passive.failures()
        && state.isUp()
        && state.markDown(
            "passive ejection: " + n + " connect failure(s) in a row, last: " + why)) {
      // Called on a data-path event loop: no lock here (apply() holds it while it builds TLS
      // contexts). The task decides on the checker's loop whether the backoff still applies:
      // with an active check (a monitor), only probes bring the server back.
      if (e.monitor == null && !closed) {
        try {
          loop.schedule(
              () -> {
                if (entries.get(state.key()) == e && e.monitor == null) {
                  state.markUp(
                      "passive-ejection backoff of "
                          + ProbeFailures.human(passive.backoff())
                          + " elapsed, trying it again",
                      true);
                }
              },
              passive.backoff().toNanos(),
              TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.RejectedExecutionException closing) {
          // The checker is closing: nothing will be checked or brought back any more.
        }
      }
    }
  }

  /** Passive signal: a connect succeeded, so the run of failures is over. */
  @Override
  public void connectSucceeded(ServerState state) {
    state.connectSucceeded();
  }

  private Monitor startMonitor(Target t, ServerState state, boolean initialPending) {
    HealthCheckConfig check = t.check().orElseThrow();
    BackendTlsConfig tls = t.tls().orElse(BackendTlsConfig.DEFAULTS);
    // As the data path: the pool's server-name, else (no client SNI here) the server's host
    // name; none for an IP, so a verified certificate must name that IP.
    String sni =
        check
            .serverName()
            .or(tls::serverName)
            .orElse(isIpLiteral(t.configured().host()) ? null : t.configured().host());
    String sslError = null;
    if (check.type().usesTls() && t.probeTls() == null) {
      sslError = "no TLS set up for the pool's " + check.type().configName() + " check";
      log.warn("pool {} server {}: {}", t.key().pool(), state.label(), sslError);
    }
    Probe probe =
        new ServerProbe(
                check, t.key().address(), t.probeTls(), sslError, sni, hostHeader(t, check, sni))
            .withProxyHeader(ProbeProxyHeader.of(t.proxyProtocol()))
            .withSource(t.source().orElse(null));
    Monitor m = new Monitor(state, check, probe, loop, limiter, random, initialPending);
    log.debug(
        "pool {} server {}: {} check every {}",
        t.key().pool(),
        state.label(),
        check.type().configName(),
        ProbeFailures.human(check.interval()));
    m.start();
    return m;
  }

  private static String hostHeader(Target t, HealthCheckConfig check, String sni) {
    if (check.host().isPresent()) {
      return check.host().get();
    }
    String host = sni != null ? sni : t.configured().host();
    if (host.indexOf(':') >= 0) {
      host = "[" + host + "]";
    }
    int port = t.configured().port();
    int standard = check.type().usesTls() ? 443 : 80;
    return port == standard ? host : host + ":" + port;
  }

  private static boolean isIpLiteral(String host) {
    return NetUtil.isValidIpV4Address(host) || NetUtil.isValidIpV6Address(host);
  }

  /** Stops every monitor; shuts the event loop down if this checker made it. */
  @Override
  public synchronized void close() {
    closed = true;
    for (Entry e : entries.values()) {
      if (e.monitor != null) {
        e.monitor.stop();
      }
    }
    if (ownsGroup) {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
  }
}
