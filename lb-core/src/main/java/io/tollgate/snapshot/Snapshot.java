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
    List<ConfigError> errors = new ArrayList<>();
    List<ConfigError> warnings = new ArrayList<>(config.warnings());
    // First: health checks of TLS pools probe with these contexts.
    long started = System.nanoTime();
    TlsMaterial tls =
        TlsMaterial.build(
            config, errors, warnings, managed, previous == null ? null : previous.tls);
    long tlsBuilt = System.nanoTime();
    // Host names and SRV names: asked all at once, waited for with a bound. A name that does
    // not resolve is a warning: one tenant's DNS must not fail everyone's reload.
    // Maps sized once: 10,000 pools a reload otherwise rehash them a dozen times each.
    int poolCount = config.pools().size() * 4 / 3 + 1;
    Map<String, PoolServers> poolServers = new LinkedHashMap<>(poolCount);
    for (PoolConfig pc : config.pools().values()) {
      ProbeTls probe = tls.probeTls(pc.name());
      PoolServers earlier = previous == null ? null : previous.poolServers.get(pc.name());
      // A pool of an untouched tenant is taken over whole (members, health targets, Pool): a
      // reload of 10,000 tenants builds only the changed ones' again.
      poolServers.put(
          pc.name(),
          earlier != null && earlier.canBeTakenOverBy(pc, probe)
              ? earlier.successor()
              : new PoolServers(
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
                          pc.source())));
    }
    if (poolServers.values().stream().anyMatch(PoolServers::followsDns)) {
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
    Map<String, List<PoolServers.Member>> members = new HashMap<>();
    List<HealthChecker.Target> targets = new ArrayList<>(config.pools().size());
    Map<String, List<HealthChecker.Target>> poolTargets = new HashMap<>();
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
    if (!errors.isEmpty()) {
      throw new ConfigException(errors);
    }
    HealthChecker.Plan plan = health != null ? health.prepare(targets) : null;
    Map<ServerKey, ServerState> states = plan != null ? plan.states() : Map.of();
    PassiveSignals signals = health != null ? health : PassiveSignals.NONE;
    Map<String, Pool> pools = new HashMap<>(poolCount);
    for (PoolConfig pc : config.pools().values()) {
      PoolServers ps = poolServers.get(pc.name());
      if (ps.takenOver()) {
        pools.put(pc.name(), ps.pool());
        continue;
      }
      List<Backend> backends = new ArrayList<>();
      for (PoolServers.Member m : members.get(pc.name())) {
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
      Pool pool =
          same != null
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
      ps.built(pool, members.get(pc.name()), poolTargets.get(pc.name()));
      pools.put(pc.name(), pool);
    }
    Map<String, Integer> listenerIndex = new HashMap<>();
    for (int i = 0; i < config.listeners().size(); i++) {
      listenerIndex.put(config.listeners().get(i).name(), i);
    }
    Router.Builder router = Router.builder();
    for (RouteConfig rc : config.routes()) {
      BitSet on = null;
      if (!rc.listeners().isEmpty()) {
        on = new BitSet(config.listeners().size());
        for (String listener : rc.listeners()) {
          on.set(listenerIndex.get(listener));
        }
      }
      Route route =
          new Route(
              rc.name(),
              rc.mode(),
              pools.get(rc.pool()),
              rc.mode().terminatesTls() ? tls.serverTls(rc.name()) : null,
              rc.mode() == RouteMode.REENCRYPT ? tls.backendTls(rc.pool()) : null,
              rc.matchAlpn(),
              rc.httpPool().map(pools::get).orElse(null),
              rc.http().orElse(null),
              on,
              SourceFilter.of(rc.access()));
      for (String host : rc.hosts()) {
        router.host(host, route);
      }
    }
    Map<String, DefaultRoute> defaults = TlsMaterial.defaultRoutes(config);
    DefaultRoute dr = config.defaultRoute();
    if (!dr.reject()) {
      router.defaultRoute(defaultRoute(TlsMaterial.DEFAULT_ROUTE, dr, pools, tls));
    }
    Router built = router.build();
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
    warnings.addAll(ConnectionCoalescing.warnings(config, built, tls, listeners.values()));
    RelaySettings relay =
        new RelaySettings(
            config.timeouts().connect(),
            config.timeouts().idle(),
            config.timeouts().handshake(),
            backendChannel,
            RelaySettings.DEFAULT_WATER_MARK,
            TcpKeepalive.of(config.timeouts().keepalive()),
            config.io().splice() && SplicedRelay.supports(backendChannel));
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
}
