package io.tollgate.config;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One entry of {@code tollgate.routes}.
 *
 * @param hosts normalised host patterns: lower case, no trailing dot; either an exact name ({@code
 *     pass.test}) or a wildcard whose first label is {@code *} ({@code *.wild.test})
 * @param mode what to do with matching connections
 * @param pool name of the pool in {@link TollgateConfig#pools()}
 * @param tls the client-facing TLS: present exactly when the mode terminates TLS (offload,
 *     reencrypt)
 * @param maxConnections client connections open at once on this route, so one tenant cannot take
 *     every connection; 0 = no limit of its own
 * @param listeners names of the listeners the route applies on; empty = every listener
 * @param access which client addresses may use the route
 */
public record RouteConfig(
    List<String> hosts,
    RouteMode mode,
    String pool,
    Optional<ServerTlsConfig> tls,
    int maxConnections,
    List<String> listeners,
    AccessRules access) {

  /** A route on every listener, open to every client. */
  public RouteConfig(
      List<String> hosts,
      RouteMode mode,
      String pool,
      Optional<ServerTlsConfig> tls,
      int maxConnections) {
    this(hosts, mode, pool, tls, maxConnections, List.of(), AccessRules.NONE);
  }

  /** A passthrough route. */
  public RouteConfig(List<String> hosts, RouteMode mode, String pool) {
    this(hosts, mode, pool, Optional.empty());
  }

  /** A route without a connection limit. */
  public RouteConfig(
      List<String> hosts, RouteMode mode, String pool, Optional<ServerTlsConfig> tls) {
    this(hosts, mode, pool, tls, 0);
  }

  public RouteConfig {
    hosts = List.copyOf(hosts);
    if (hosts.isEmpty()) {
      throw new IllegalArgumentException("a route needs at least one host");
    }
    Objects.requireNonNull(mode, "mode");
    Objects.requireNonNull(pool, "pool");
    Objects.requireNonNull(tls, "tls");
    if (tls.isPresent() != mode.terminatesTls()) {
      throw new IllegalArgumentException(
          "tls settings belong to offload and reencrypt routes only, and those need them");
    }
    if (maxConnections < 0) {
      throw new IllegalArgumentException("negative maxConnections");
    }
    listeners = List.copyOf(listeners);
    Objects.requireNonNull(access, "access");
  }

  /** Whether the route applies on the listener named {@code listener}. */
  public boolean appliesOn(String listener) {
    return listeners.isEmpty() || listeners.contains(listener);
  }

  /** A short name for logs and metrics: the first host pattern. */
  public String name() {
    return hosts.get(0);
  }
}
