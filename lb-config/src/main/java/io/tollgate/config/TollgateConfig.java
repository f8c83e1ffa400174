package io.tollgate.config;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One validated, immutable configuration: what a config file says after defaults from {@code
 * reference.conf} have been applied and every check in {@link ConfigLoader} has passed.
 *
 * <p>Instances are only built by {@link ConfigLoader}; code that holds one may rely on every
 * cross-reference being valid (each route's pool exists, every pool has servers, no hostname is
 * claimed twice).
 *
 * @param certificates the certificate store and extra trusted roots
 * @param tls TLS settings shared by offload and reencrypt routes
 * @param accessLog where the access log goes ({@code tollgate.access-log})
 * @param source where it was read from, for logs ("conf/tollgate.conf", or "&lt;string&gt;")
 * @param warnings things that are allowed but probably not meant (certificate verification turned
 *     off, ...): {@code check} prints them, {@code run} logs them
 * @param ops the admin endpoint and {@code watch}
 * @param acme the ACME CA for {@code certificate = acme} routes ({@code tollgate.acme}), if set
 * @param dns the resolver of DNS-aware pools ({@code tollgate.dns})
 */
public record TollgateConfig(
    List<ListenerConfig> listeners,
    IoConfig io,
    Timeouts timeouts,
    Limits limits,
    List<RouteConfig> routes,
    DefaultRoute defaultRoute,
    Map<String, PoolConfig> pools,
    CertificatesConfig certificates,
    TlsConfig tls,
    AccessLogConfig accessLog,
    String source,
    List<ConfigError> warnings,
    OpsConfig ops,
    Optional<AcmeConfig> acme,
    DnsConfig dns) {

  /** Without ACME, with pools resolving through the system's name servers. */
  public TollgateConfig(
      List<ListenerConfig> listeners,
      IoConfig io,
      Timeouts timeouts,
      Limits limits,
      List<RouteConfig> routes,
      DefaultRoute defaultRoute,
      Map<String, PoolConfig> pools,
      CertificatesConfig certificates,
      TlsConfig tls,
      AccessLogConfig accessLog,
      String source,
      List<ConfigError> warnings,
      OpsConfig ops) {
    this(
        listeners,
        io,
        timeouts,
        limits,
        routes,
        defaultRoute,
        pools,
        certificates,
        tls,
        accessLog,
        source,
        warnings,
        ops,
        Optional.empty(),
        DnsConfig.SYSTEM);
  }

  public TollgateConfig {
    listeners = List.copyOf(listeners);
    Objects.requireNonNull(io, "io");
    Objects.requireNonNull(timeouts, "timeouts");
    Objects.requireNonNull(limits, "limits");
    routes = List.copyOf(routes);
    Objects.requireNonNull(defaultRoute, "defaultRoute");
    pools = Map.copyOf(pools);
    Objects.requireNonNull(certificates, "certificates");
    Objects.requireNonNull(tls, "tls");
    Objects.requireNonNull(accessLog, "accessLog");
    Objects.requireNonNull(source, "source");
    warnings = List.copyOf(warnings);
    Objects.requireNonNull(ops, "ops");
    Objects.requireNonNull(acme, "acme");
    Objects.requireNonNull(dns, "dns");
  }

  /** The pool of that name; it exists for every name a validated route refers to. */
  public PoolConfig pool(String name) {
    PoolConfig pool = pools.get(name);
    if (pool == null) {
      throw new IllegalArgumentException("no pool named " + name);
    }
    return pool;
  }
}
