package io.tollgate.snapshot;

import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.tollgate.config.AdminConfig;
import io.tollgate.config.ConfigError;
import io.tollgate.config.ConfigException;
import io.tollgate.config.DefaultRoute;
import io.tollgate.config.ListenerConfig;
import io.tollgate.config.PoolConfig;
import io.tollgate.config.RouteConfig;
import io.tollgate.config.RouteMode;
import io.tollgate.config.TollgateConfig;
import io.tollgate.connection.TcpKeepalive;
import io.tollgate.dns.DnsCounters;
import io.tollgate.dns.DnsLookups;
import io.tollgate.health.HealthChecker;
import io.tollgate.health.PassiveSignals;
import io.tollgate.health.ProbeTls;
import io.tollgate.health.ServerKey;
import io.tollgate.health.ServerState;
import io.tollgate.pool.Backend;
import io.tollgate.pool.Pool;
import io.tollgate.relay.RelaySettings;
import io.tollgate.relay.SplicedRelay;
import io.tollgate.route.Route;
import io.tollgate.route.Router;
import io.tollgate.route.SourceFilter;
import io.tollgate.tls.ManagedCertificates;
import io.tollgate.tls.SecretFiles;
import io.tollgate.tls.TlsMaterial;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Everything the data path reads for a new connection, built from one config and never changed:
 * each listener's settings, the router, the pools it points at, the TLS material (certificates,
 * contexts) of offload and reencrypt routes, and the relay's timeouts. A reload builds a new
 * snapshot off the event loops and swaps one reference. A connection is pinned to the snapshot in
 * force when its listener accepted it ({@code Connection.snapshot()}) and reads nothing else, so it
 * keeps its settings, route and backend whatever reloads come after; an old snapshot lives as long
 * as its last connection.
 */
public final class Snapshot {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Snapshot.class);

  private final TollgateConfig config;
  private final Map<String, ListenerSettings> listeners;
  private final RelaySettings relay;
  private final Router router;
  private final Map<String, Pool> pools;
  private final List<ConfigError> warnings;
  private final TlsMaterial tls;
  private final List<HealthChecker.Target> healthTargets;

  /** The servers' health as prepared for this snapshot; null without a checker. */
  private final HealthChecker.Plan health;

  /** Each pool's run-time server set (DNS, admin API), by pool name. */
  private final Map<String, PoolServers> poolServers;

  /** Where pools look their names up again once in force; null: never (check, tests). */
  private final DnsLookups dns;

  private Snapshot(
      TollgateConfig config,
      Map<String, ListenerSettings> listeners,
      RelaySettings relay,
      Router router,
      Map<String, Pool> pools,
      List<ConfigError> warnings,
      TlsMaterial tls,
      List<HealthChecker.Target> healthTargets,
      HealthChecker.Plan health,
      Map<String, PoolServers> poolServers,
      DnsLookups dns) {
    this.config = config;
    this.listeners = Collections.unmodifiableMap(listeners);
    this.relay = relay;
    this.router = router;
    // Wrapped, not copied: build made them for this snapshot alone (10,000 pools a reload).
    this.pools = Collections.unmodifiableMap(pools);
    this.warnings = List.copyOf(warnings);
    this.tls = tls;
    this.healthTargets = Collections.unmodifiableList(healthTargets);
    this.health = health;
    this.poolServers = Collections.unmodifiableMap(poolServers);
    this.dns = dns;
  }

  /**
   * Builds the runtime objects, resolving backend host names and reading certificates now (this
   * blocks on DNS and files, so call it off the event loops).
   *
   * @throws ConfigException naming every certificate, key or CA file that cannot be used (a host
   *     name that does not resolve is a warning: the pool has no server for it until it does)
   */
  public static Snapshot build(TollgateConfig config) throws ConfigException {
    return build(config, null);
  }

  /**
   * As {@link #build(TollgateConfig, HealthChecker, Class)}, for a snapshot that carries no
   * connections (the {@code check} command, tests): its relay settings name the NIO channel class.
   */
  public static Snapshot build(TollgateConfig config, HealthChecker health) throws ConfigException {
    return build(config, health, NioSocketChannel.class);
  }

  /**
   * As {@link #build(TollgateConfig)}, with server health from {@code health}: once every name
   * resolves, the checker prepares the new set of servers (unchanged ones keep their state, new
   * ones get a fresh one) and the pools read that state. Nothing changes in the checker until
   * {@link #commitHealth}: call it once this snapshot is certain to go into force.
   *
   * @param health null for pools whose servers are always up (the {@code check} command)
   * @param backendChannel the channel class of the transport in use: backend channels share the
   *     client's event loop, so they must be of the same class
   */
  public static Snapshot build(
      TollgateConfig config, HealthChecker health, Class<? extends SocketChannel> backendChannel)
      throws ConfigException {
    return build(config, health, backendChannel, ManagedCertificates.NONE, null, null);
  }

  /**
   * As {@link #build(TollgateConfig, HealthChecker, Class)}; routes with {@code certificate = acme}
   * serve what {@code managed} (the ACME manager) holds for them, and DNS-aware pools use {@code
   * dns}: once {@link #commitHealth} put the snapshot in force, they look their names up again
   * every {@code resolve-every} with it. Without one ({@code null}), names are looked up once, now,
   * with a resolver of {@code tollgate.dns} closed again before this returns.
   */
  public static Snapshot build(
      TollgateConfig config,
      HealthChecker health,
      Class<? extends SocketChannel> backendChannel,
      ManagedCertificates managed,
      DnsLookups dns)
      throws ConfigException {
    return build(config, health, backendChannel, managed, dns, null);
  }

  /**
   * As {@link #build(TollgateConfig, HealthChecker, Class, ManagedCertificates, DnsLookups,
   * Snapshot)} without ACME routes or a resolver that outlives the build.
   */
  public static Snapshot build(
      TollgateConfig config,
      HealthChecker health,
      Class<? extends SocketChannel> backendChannel,
      Snapshot previous)
      throws ConfigException {
    return build(config, health, backendChannel, ManagedCertificates.NONE, null, previous);
  }

  /**
   * As {@link #build(TollgateConfig, HealthChecker, Class, ManagedCertificates, DnsLookups)} for a
   * reload: what did not change since {@code previous} is taken over instead of built again. TLS
   * contexts of untouched routes (same certificate bytes, same settings) keep their session caches
   * ({@link TlsMaterial#build(TollgateConfig, List, List, ManagedCertificates, TlsMaterial)}), and
   * a pool whose settings and servers (the same addresses, with the health states the checker kept)
   * are unchanged stays the same object, with its balancing position. Health monitors of unchanged
   * servers are kept by the checker.
   *
   * @param previous the snapshot in force, or null
   */
  public static Snapshot build(
      TollgateConfig config,
      HealthChecker health,
      Class<? extends SocketChannel> backendChannel,
      ManagedCertificates managed,
      DnsLookups dns,
      Snapshot previous)
      throws ConfigException {
    return build(config, health, backendChannel, managed, dns, previous, true);
  }

  /**
   * What a reload rehearsal builds ({@code warmup.reloads}, dropped once built): as a reload's
   * build against {@code previous}, but no name is looked up, so DNS-following pools have no
   * servers in it. Why: nothing is cached between lookups, so each of the rounds would ask the
   * tenants' name servers for every such pool's names again, a burst of queries in the seconds
   * after a start, and a slow name server would hold each round for its timeout.
   */
  public static Snapshot rehearse(
      TollgateConfig config,
      HealthChecker health,
      Class<? extends SocketChannel> backendChannel,
      ManagedCertificates managed,
      Snapshot previous)
      throws ConfigException {
    return build(config, health, backendChannel, managed, null, previous, false);
  }

  private static Snapshot build(
      TollgateConfig config,
      HealthChecker health,
      Class<? extends SocketChannel> backendChannel,
      ManagedCertificates managed,
      DnsLookups dns,
      Snapshot previous,
      boolean lookUpNames)
      throws ConfigException {
    List<ConfigError> errors = new ArrayList<>();
    List<ConfigError> warnings = new ArrayList<>(config.warnings());
    // First: health checks of TLS pools probe with these contexts.
    long started = System.nanoTime();
    TlsMaterial tls =
        TlsMaterial.build(
            config, errors, warnings, managed, previous == null ? null : previous.tls);
    long tlsBuilt = System.nanoTime();
    // Each stage its own method: a reload runs each loop once over 10,000 items, and the JIT
    // compiles small methods early and cheaply, where one large method was compiled again for
    // each loop (on-stack replacement), at hundreds of milliseconds of compiler time each.
    Map<String, PoolServers> poolServers = poolServers(config, tls, previous);
    // Looked for in a rehearsal too: a 10,000-pool loop that only real reloads ran was
    // interpreted at the first one after a start.
    if (anyFollowsDns(poolServers) && lookUpNames) {
      lookUp(poolServers, config, dns);
    }
    Map<String, List<PoolServers.Member>> members = new HashMap<>();
    Map<String, List<HealthChecker.Target>> poolTargets = new HashMap<>();
    List<HealthChecker.Target> targets =
        targets(poolServers, config, warnings, members, poolTargets);
    adminTokenWarning(config, warnings);
    if (!errors.isEmpty()) {
      throw new ConfigException(errors);
    }
    HealthChecker.Plan plan = health != null ? health.prepare(targets) : null;
    Map<ServerKey, ServerState> states = plan != null ? plan.states() : Map.of();
    PassiveSignals signals = health != null ? health : PassiveSignals.NONE;
    Map<String, Pool> pools =
        pools(config, poolServers, members, poolTargets, states, signals, previous);
    Map<String, Integer> listenerIndex = new HashMap<>();
    for (int i = 0; i < config.listeners().size(); i++) {
      listenerIndex.put(config.listeners().get(i).name(), i);
    }
    Router built = router(config, pools, tls, listenerIndex);
    Map<String, ListenerSettings> listeners = listeners(config, built, pools, tls, listenerIndex);
    warnings.addAll(ConnectionCoalescing.warnings(config, built, tls, listeners.values()));
    RelaySettings relay =
        new RelaySettings(
            config.timeouts().connect(),
            config.timeouts().idle(),
            config.timeouts().handshake(),
            backendChannel,
            RelaySettings.DEFAULT_WATER_MARK,
            TcpKeepalive.of(config.timeouts().keepalive()),
            config.io().splice() && SplicedRelay.supports(backendChannel),
            config.timeouts().lingeringClose(),
            config.limits().receiveBuffer());
    if (log.isDebugEnabled()) {
      log.debug(
          "snapshot of {} route(s): TLS material in {} ms, the rest in {} ms",
          config.routes().size(),
          (tlsBuilt - started) / 1_000_000,
          (System.nanoTime() - tlsBuilt) / 1_000_000);
    }
    return new Snapshot(
        config, listeners, relay, built, pools, warnings, tls, targets, plan, poolServers, dns);
  }

  /**
   * Each pool's run-time server set: a pool of an untouched tenant is taken over whole (members,
   * health targets, Pool), so a reload of 10,000 tenants builds only the changed ones' again.
   */
  private static Map<String, PoolServers> poolServers(
      TollgateConfig config, TlsMaterial tls, Snapshot previous) {
    // Maps sized once: 10,000 pools a reload otherwise rehash them a dozen times each.
    Map<String, PoolServers> poolServers = new LinkedHashMap<>(config.pools().size() * 4 / 3 + 1);
    for (PoolConfig pc : config.pools().values()) {
      PoolServers earlier = previous == null ? null : previous.poolServers.get(pc.name());
      poolServers.put(pc.name(), poolServers(pc, tls.probeTls(pc.name()), earlier));
    }
    return poolServers;
  }

  private static PoolServers poolServers(PoolConfig pc, ProbeTls probe, PoolServers earlier) {
    if (earlier != null && earlier.canBeTakenOverBy(pc, probe)) {
      return earlier.successor();
    }
    return new PoolServers(
        pc,
        // Captures the probe, not the material: a pool taken over keeps this function.
        (configured, address) ->
            new HealthChecker.Target(
                new ServerKey(pc.name(), address),
                configured,
                pc.healthCheck(),
                pc.passive(),
                pc.tls(),
                pc.proxyProtocol().version(),
                probe,
                pc.source()));
  }

  private static boolean anyFollowsDns(Map<String, PoolServers> poolServers) {
    for (PoolServers ps : poolServers.values()) {
      if (ps.followsDns()) {
        return true;
      }
    }
    return false;
  }

  /**
   * Host names and SRV names: asked all at once, waited for with a bound. A name that does not
   * resolve is a warning: one tenant's DNS must not fail everyone's reload.
   */
  private static void lookUp(
      Map<String, PoolServers> poolServers, TollgateConfig config, DnsLookups dns) {
    DnsLookups lookups = dns != null ? dns : DnsLookups.start(config.dns(), new DnsCounters());
    try {
      List<CompletableFuture<Void>> asked = new ArrayList<>();
      for (PoolServers ps : poolServers.values()) {
        if (ps.followsDns()) {
          asked.add(ps.lookUp(lookups));
        }
      }
      awaitLookups(asked, config.dns().timeout().multipliedBy(3).plusSeconds(1));
    } finally {
      if (dns == null) {
        lookups.close();
      }
    }
  }

  /**
   * Every server as a health-check target; fills in the members and own targets of each pool built
   * anew (a pool taken over brings its own).
   */
  private static List<HealthChecker.Target> targets(
      Map<String, PoolServers> poolServers,
      TollgateConfig config,
      List<ConfigError> warnings,
      Map<String, List<PoolServers.Member>> members,
      Map<String, List<HealthChecker.Target>> poolTargets) {
    List<HealthChecker.Target> targets = new ArrayList<>(config.pools().size());
    for (PoolServers ps : poolServers.values()) {
      if (ps.takenOver()) {
        targets.addAll(ps.builtTargets()); // addresses only: no names, no warnings
        continue;
      }
      warnings.addAll(ps.loadWarnings(config.source()));
      List<PoolServers.Member> m = ps.members();
      members.put(ps.name(), m);
      List<HealthChecker.Target> own = new ArrayList<>(m.size());
      poolTargets.put(ps.name(), own);
      for (PoolServers.Member s : m) {
        own.add(ps.target(s));
      }
      targets.addAll(own);
    }
    return targets;
  }

  private static void adminTokenWarning(TollgateConfig config, List<ConfigError> warnings) {
    config
        .ops()
        .admin()
        .flatMap(AdminConfig::tokenFile)
        .ifPresent(
            token ->
                SecretFiles.exposure(token, "the admin token file")
                    .ifPresent(
                        warning ->
                            warnings.add(
                                new ConfigError(
                                    token.toString(), "tollgate.admin.token-file", warning))));
  }

  /** Each pool as the data path uses it: taken over, unchanged, or built from its servers. */
  private static Map<String, Pool> pools(
      TollgateConfig config,
      Map<String, PoolServers> poolServers,
      Map<String, List<PoolServers.Member>> members,
      Map<String, List<HealthChecker.Target>> poolTargets,
      Map<ServerKey, ServerState> states,
      PassiveSignals signals,
      Snapshot previous) {
    Map<String, Pool> pools = new HashMap<>(config.pools().size() * 4 / 3 + 1);
    for (PoolConfig pc : config.pools().values()) {
      PoolServers ps = poolServers.get(pc.name());
      if (ps.takenOver()) {
        pools.put(pc.name(), ps.pool());
        continue;
      }
      Pool pool = pool(pc, members.get(pc.name()), states, signals, previous);
      ps.built(pool, members.get(pc.name()), poolTargets.get(pc.name()));
      pools.put(pc.name(), pool);
    }
    return pools;
  }

  private static Pool pool(
      PoolConfig pc,
      List<PoolServers.Member> members,
      Map<ServerKey, ServerState> states,
      PassiveSignals signals,
      Snapshot previous) {
    List<Backend> backends = new ArrayList<>();
    for (PoolServers.Member m : members) {
      ServerKey key = new ServerKey(pc.name(), m.address());
      ServerState state = states.get(key);
      if (state == null) {
        state = new ServerState(key, m.configured().toString(), true, System::nanoTime);
      }
      backends.add(
          new Backend(
              m.configured(), m.address(), m.weight(), m.maxConnections(), state, m.backup()));
    }
    Pool same = previous == null ? null : previous.unchangedPool(pc, backends);
    return same != null
        ? same
        : new Pool(
            pc.name(),
            backends,
            pc.connectAttempts(),
            pc.balance(),
            pc.proxyProtocol(),
            signals,
            System::nanoTime,
            ThreadLocalRandom::current,
            pc.source().map(ip -> new InetSocketAddress(ip, 0)).orElse(null));
  }

  private static Router router(
      TollgateConfig config,
      Map<String, Pool> pools,
      TlsMaterial tls,
      Map<String, Integer> listenerIndex) {
    Router.Builder router = Router.builder(config.routes().size() + config.routes().size() / 4);
    for (RouteConfig rc : config.routes()) {
      Route route = route(rc, config, pools, tls, listenerIndex);
      for (String host : rc.hosts()) {
        router.host(host, route);
      }
    }
    DefaultRoute dr = config.defaultRoute();
    if (!dr.reject()) {
      router.defaultRoute(defaultRoute(TlsMaterial.DEFAULT_ROUTE, dr, pools, tls));
    }
    return router.build();
  }

  private static Route route(
      RouteConfig rc,
      TollgateConfig config,
      Map<String, Pool> pools,
      TlsMaterial tls,
      Map<String, Integer> listenerIndex) {
    BitSet on = null;
    if (!rc.listeners().isEmpty()) {
      on = new BitSet(config.listeners().size());
      for (String listener : rc.listeners()) {
        on.set(listenerIndex.get(listener));
      }
    }
    return new Route(
        rc.name(),
        rc.mode(),
        pools.get(rc.pool()),
        rc.mode().terminatesTls() ? tls.serverTls(rc.name()) : null,
        rc.mode() == RouteMode.REENCRYPT ? tls.backendTls(rc.pool()) : null,
        rc.matchAlpn(),
        rc.httpPool().isPresent() ? pools.get(rc.httpPool().get()) : null,
        rc.http().orElse(null),
        on,
        SourceFilter.of(rc.access()));
  }

  private static Map<String, ListenerSettings> listeners(
      TollgateConfig config,
      Router built,
      Map<String, Pool> pools,
      TlsMaterial tls,
      Map<String, Integer> listenerIndex) {
    Map<String, DefaultRoute> defaults = TlsMaterial.defaultRoutes(config);
    Map<String, ListenerSettings> listeners = new LinkedHashMap<>();
    for (ListenerConfig lc : config.listeners()) {
      Router.Match fallback = built.fallback();
      if (lc.defaultRoute().isPresent()) {
        String name = TlsMaterial.DEFAULT_ROUTE + "@" + lc.name();
        fallback =
            Router.fallback(
                defaults.containsKey(name)
                    ? defaultRoute(name, defaults.get(name), pools, tls)
                    : null);
      }
      listeners.put(
          lc.name(), ListenerSettings.of(lc, config, listenerIndex.get(lc.name()), fallback));
    }
    return listeners;
  }

  /** Waits for the lookups, at most {@code bound} in all; those still out count as unanswered. */
  private static void awaitLookups(List<CompletableFuture<Void>> asked, Duration bound) {
    try {
      CompletableFuture.allOf(asked.toArray(CompletableFuture[]::new))
          .get(bound.toNanos(), TimeUnit.NANOSECONDS);
    } catch (TimeoutException | ExecutionException e) {
      // Each name's outcome is recorded on its own; the warnings say which did not resolve.
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** A default route (top-level or a listener's) as the router serves it. */
  private static Route defaultRoute(
      String name, DefaultRoute dr, Map<String, Pool> pools, TlsMaterial tls) {
    return new Route(
        name,
        dr.mode(),
        pools.get(dr.pool()),
        dr.mode().terminatesTls() ? tls.serverTls(TlsMaterial.defaultRouteKey(name)) : null,
        dr.mode() == RouteMode.REENCRYPT ? tls.backendTls(dr.pool()) : null,
        null,
        SourceFilter.of(dr.access()));
  }

  /**
   * This snapshot's pool named as {@code config}, if it was built from an equal config and its
   * servers are {@code servers} (same addresses, same health states, same weights); else null.
   */
  private Pool unchangedPool(PoolConfig config, List<Backend> servers) {
    Pool pool = pools.get(config.name());
    if (pool == null || !config.equals(this.config.pools().get(config.name()))) {
      return null;
    }
    List<Backend> mine = pool.servers();
    if (mine.size() != servers.size()) {
      return null;
    }
    for (int i = 0; i < mine.size(); i++) {
      Backend a = mine.get(i);
      Backend b = servers.get(i);
      if (!a.address().equals(b.address())
          || a.state() != b.state()
          || a.weight() != b.weight()
          || a.maxConnections() != b.maxConnections()
          || a.backup() != b.backup()) {
        return null;
      }
    }
    return pool;
  }

  /** This snapshot's servers as health-check targets, as {@link #build} gave them the checker. */
  List<HealthChecker.Target> healthTargets() {
    return healthTargets;
  }

  /**
   * Puts this snapshot's servers in force in the health checker (new ones start being probed,
   * removed ones stop). A reload that is rejected after building the snapshot never calls it, so
   * the servers of the config in force go on being probed exactly as before.
   */
  public void commitHealth() {
    if (health != null) {
      health.commit();
      for (PoolServers ps : poolServers.values()) {
        ps.start(health.checker(), health.committedGeneration(), dns);
      }
    } else {
      poolServers.values().forEach(ps -> ps.start(null, 0, dns));
    }
  }

  /**
   * A newer snapshot is in force (or Tollgate stops): this one's pools stop following DNS and
   * refuse admin changes. Connections routed with it go on.
   */
  public void retire() {
    poolServers.values().forEach(PoolServers::stop);
  }

  /** Every pool's run-time server set, by pool name. */
  public Map<String, PoolServers> poolServers() {
    return poolServers;
  }

  /** The run-time server set of the pool named {@code name}, or null. */
  public PoolServers poolServers(String name) {
    return poolServers.get(name);
  }

  public TollgateConfig config() {
    return config;
  }

  /**
   * The settings of the listener named {@code name}, or null when this config has no such listener.
   */
  public ListenerSettings listener(String name) {
    return listeners.get(name);
  }

  /** Timeouts and buffer bounds of the relays of connections routed with this snapshot. */
  public RelaySettings relay() {
    return relay;
  }

  public Router router() {
    return router;
  }

  public Map<String, Pool> pools() {
    return pools;
  }

  /** The certificates and TLS contexts of this config. */
  public TlsMaterial tls() {
    return tls;
  }

  /** What the config and its certificates allow but an operator should look at. */
  public List<ConfigError> warnings() {
    return warnings;
  }

  /**
   * This snapshot with {@code more} warnings: what only the process in force can tell (settings it
   * read at start and keeps). Call before it is put in force; the two share everything else.
   */
  public Snapshot withWarnings(List<ConfigError> more) {
    List<ConfigError> all = new ArrayList<>(warnings);
    all.addAll(more);
    return new Snapshot(
        config, listeners, relay, router, pools, all, tls, healthTargets, health, poolServers, dns);
  }
}
