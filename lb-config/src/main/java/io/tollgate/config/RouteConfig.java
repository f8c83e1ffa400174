package io.tollgate.config;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One entry of {@code tollgate.routes}.
 *
 * @param hosts normalised host patterns: lower case, no trailing dot; either an exact name
 *     ({@code pass.test}) or a wildcard whose first label is {@code *} ({@code *.wild.test})
 * @param mode what to do with matching connections
 * @param pool name of the pool in {@link TollgateConfig#pools()}
 * @param tls the client-facing TLS: present exactly when the mode terminates TLS (offload,
 *     reencrypt)
 */
public record RouteConfig(
    List<String> hosts, RouteMode mode, String pool, Optional<ServerTlsConfig> tls) {

  /** A passthrough route. */
  public RouteConfig(List<String> hosts, RouteMode mode, String pool) {
    this(hosts, mode, pool, Optional.empty());
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
  }

  /** A short name for logs and metrics: the first host pattern. */
  public String name() {
    return hosts.get(0);
  }
}
