package io.tollgate.config;

import java.net.InetAddress;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One entry of {@code tollgate.pools}.
 *
 * @param name the key under {@code pools}
 * @param servers at least one
 * @param connectAttempts how many servers to try, in balancing order, when connecting fails before
 *     any byte was sent (at least 1)
 * @param tls how reencrypt routes talk TLS to these servers; absent means {@link
 *     BackendTlsConfig#DEFAULTS} for reencrypt routes (passthrough and offload routes ignore it)
 * @param healthCheck active probing of the servers; absent: no probes, servers count as up
 * @param balance balancing algorithm, slow start and what to do when every server is down
 * @param passive passive ejection on connect failures
 * @param proxyProtocol the PROXY protocol header written first on every connection to the servers
 *     (and on health checks), or {@link BackendProxyProtocol#OFF}
 * @param dns how host names (and {@code srv}) are followed; with {@code srv} the list of servers
 *     may be empty
 * @param source the local address backend connections are bound to ({@code source}); empty: the
 *     kernel picks
 */
public record PoolConfig(
    String name,
    List<ServerConfig> servers,
    int connectAttempts,
    Optional<BackendTlsConfig> tls,
    Optional<HealthCheckConfig> healthCheck,
    BalanceConfig balance,
    PassiveEjectionConfig passive,
    BackendProxyProtocol proxyProtocol,
    PoolDnsConfig dns,
    Optional<InetAddress> source) {

  /** Host names looked up every 30 s, no SRV name, no source address. */
  public PoolConfig(
      String name,
      List<ServerConfig> servers,
      int connectAttempts,
      Optional<BackendTlsConfig> tls,
      Optional<HealthCheckConfig> healthCheck,
      BalanceConfig balance,
      PassiveEjectionConfig passive,
      BackendProxyProtocol proxyProtocol) {
    this(
        name,
        servers,
        connectAttempts,
        tls,
        healthCheck,
        balance,
        passive,
        proxyProtocol,
        PoolDnsConfig.DEFAULTS,
        Optional.empty());
  }

  public PoolConfig(String name, List<ServerConfig> servers, int connectAttempts) {
    this(name, servers, connectAttempts, Optional.empty());
  }

  public PoolConfig(
      String name,
      List<ServerConfig> servers,
      int connectAttempts,
      Optional<BackendTlsConfig> tls) {
    this(
        name,
        servers,
        connectAttempts,
        tls,
        Optional.empty(),
        BalanceConfig.DEFAULTS,
        PassiveEjectionConfig.DEFAULTS,
        BackendProxyProtocol.OFF);
  }

  public PoolConfig {
    Objects.requireNonNull(name, "name");
    servers = List.copyOf(servers);
    Objects.requireNonNull(dns, "dns");
    if (servers.isEmpty() && dns.srv().isEmpty()) {
      throw new IllegalArgumentException("pool " + name + " has no servers");
    }
    if (connectAttempts < 1) {
      throw new IllegalArgumentException("connectAttempts must be >= 1");
    }
    Objects.requireNonNull(tls, "tls");
    Objects.requireNonNull(healthCheck, "healthCheck");
    Objects.requireNonNull(balance, "balance");
    Objects.requireNonNull(passive, "passive");
    Objects.requireNonNull(proxyProtocol, "proxyProtocol");
    Objects.requireNonNull(source, "source");
  }
}
