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
import io.tollgate.config.ServerConfig;
import io.tollgate.config.TollgateConfig;
import io.tollgate.health.HealthChecker;
import io.tollgate.health.PassiveSignals;
import io.tollgate.health.ServerKey;
import io.tollgate.health.ServerState;
import io.tollgate.pool.Backend;
import io.tollgate.pool.Pool;
import io.tollgate.relay.RelaySettings;
import io.tollgate.route.Route;
import io.tollgate.route.Router;
import io.tollgate.tls.SecretFiles;
import io.tollgate.tls.TlsMaterial;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

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

  private Snapshot(
      TollgateConfig config,
      Map<String, ListenerSettings> listeners,
      RelaySettings relay,
      Router router,
      Map<String, Pool> pools,
      List<ConfigError> warnings,
      TlsMaterial tls,
      List<HealthChecker.Target> healthTargets,
      HealthChecker.Plan health) {
    this.config = config;
    this.listeners = Collections.unmodifiableMap(listeners);
    this.relay = relay;
    this.router = router;
    this.pools = Map.copyOf(pools);
    this.warnings = List.copyOf(warnings);
    this.tls = tls;
    this.healthTargets = List.copyOf(healthTargets);
    this.health = health;
  }

  /**
   * Builds the runtime objects, resolving backend host names and reading certificates now (this
   * blocks on DNS and files, so call it off the event loops).
   *
   * @throws ConfigException naming every server whose host does not resolve and every certificate,
   *     key or CA file that cannot be used
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
    return build(config, health, backendChannel, null);
  }

  /**
   * As {@link #build(TollgateConfig, HealthChecker, Class)} for a reload: what did not change since
   * {@code previous} is taken over instead of built again. TLS contexts of untouched routes (same
   * certificate bytes, same settings) keep their session caches ({@link TlsMaterial#build(
   * TollgateConfig, List, List, TlsMaterial)}), and a pool whose settings and servers (the same
   * addresses, with the health states the checker kept) are unchanged stays the same object, with
   * its balancing position. Health monitors of unchanged servers are kept by the checker.
   *
   * @param previous the snapshot in force, or null
   */
  public static Snapshot build(
      TollgateConfig config,
      HealthChecker health,
      Class<? extends SocketChannel> backendChannel,
      Snapshot previous)
      throws ConfigException {
    List<ConfigError> errors = new ArrayList<>();
    List<ConfigError> warnings = new ArrayList<>(config.warnings());
    // First: health checks of TLS pools probe with these contexts.
    TlsMaterial tls =
        TlsMaterial.build(config, errors, warnings, previous == null ? null : previous.tls);
    Map<String, List<InetSocketAddress>> resolved = new HashMap<>();
    List<HealthChecker.Target> targets = new ArrayList<>();
    for (PoolConfig pc : config.pools().values()) {
      List<InetSocketAddress> addresses = new ArrayList<>();
      for (int i = 0; i < pc.servers().size(); i++) {
        ServerConfig sc = pc.servers().get(i);
        try {
          InetAddress ip = InetAddress.getByName(sc.address().host());
          InetSocketAddress a = new InetSocketAddress(ip, sc.address().port());
          addresses.add(a);
          targets.add(
              new HealthChecker.Target(
                  new ServerKey(pc.name(), a),
                  sc.address(),
                  pc.healthCheck(),
                  pc.passive(),
                  pc.tls(),
                  pc.proxyProtocol().version(),
                  tls.probeTls(pc.name())));
        } catch (UnknownHostException e) {
          errors.add(
              new ConfigError(
                  config.source(),
                  "tollgate.pools." + pc.name() + ".servers[" + i + "]",
                  "cannot resolve host \"" + sc.address().host() + "\""));
        }
      }
      resolved.put(pc.name(), addresses);
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
    Map<String, Pool> pools = new HashMap<>();
    for (PoolConfig pc : config.pools().values()) {
      List<Backend> backends = new ArrayList<>();
      for (int i = 0; i < pc.servers().size(); i++) {
        ServerConfig sc = pc.servers().get(i);
        InetSocketAddress a = resolved.get(pc.name()).get(i);
        ServerState state = states.get(new ServerKey(pc.name(), a));
        if (state == null) {
          state =
              new ServerState(
                  new ServerKey(pc.name(), a), sc.address().toString(), true, System::nanoTime);
        }
        backends.add(new Backend(sc.address(), a, sc.weight(), sc.maxConnections(), state));
      }
      Pool same = previous == null ? null : previous.unchangedPool(pc, backends);
      if (same != null) {
        pools.put(pc.name(), same);
        continue;
      }
      pools.put(
          pc.name(),
          new Pool(
              pc.name(),
              backends,
              pc.connectAttempts(),
              pc.balance(),
              pc.proxyProtocol(),
              signals,
              System::nanoTime,
              ThreadLocalRandom::current));
    }
    Router.Builder router = Router.builder();
    for (RouteConfig rc : config.routes()) {
      Route route =
          new Route(
              rc.name(),
              rc.mode(),
              pools.get(rc.pool()),
              rc.mode().terminatesTls() ? tls.serverTls(rc.name()) : null,
              rc.mode() == RouteMode.REENCRYPT ? tls.backendTls(rc.pool()) : null);
      for (String host : rc.hosts()) {
        router.host(host, route);
      }
    }
    DefaultRoute dr = config.defaultRoute();
    if (!dr.reject()) {
      router.defaultRoute(new Route("default", dr.mode(), pools.get(dr.pool())));
    }
    Router built = router.build();
    warnings.addAll(ConnectionCoalescing.warnings(config, built, tls));
    Map<String, ListenerSettings> listeners = new LinkedHashMap<>();
    for (ListenerConfig lc : config.listeners()) {
      listeners.put(lc.name(), ListenerSettings.of(lc, config));
    }
    RelaySettings relay =
        new RelaySettings(
            config.timeouts().connect(),
            config.timeouts().idle(),
            config.timeouts().handshake(),
            backendChannel,
            RelaySettings.DEFAULT_WATER_MARK);
    return new Snapshot(config, listeners, relay, built, pools, warnings, tls, targets, plan);
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
          || a.maxConnections() != b.maxConnections()) {
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
    }
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
