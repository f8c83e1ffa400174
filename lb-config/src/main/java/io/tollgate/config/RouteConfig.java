package io.tollgate.config;

import java.util.List;
import java.util.Objects;

/**
 * One entry of {@code tollgate.routes}.
 *
 * @param hosts normalised host patterns: lower case, no trailing dot; either an exact name
 *     ({@code pass.test}) or a wildcard whose first label is {@code *} ({@code *.wild.test})
 * @param mode what to do with matching connections
 * @param pool name of the pool in {@link TollgateConfig#pools()}
 */
public record RouteConfig(List<String> hosts, RouteMode mode, String pool) {
  public RouteConfig {
    hosts = List.copyOf(hosts);
    if (hosts.isEmpty()) {
      throw new IllegalArgumentException("a route needs at least one host");
    }
    Objects.requireNonNull(mode, "mode");
    Objects.requireNonNull(pool, "pool");
  }

  /** A short name for logs and metrics: the first host pattern. */
  public String name() {
    return hosts.get(0);
  }
}
