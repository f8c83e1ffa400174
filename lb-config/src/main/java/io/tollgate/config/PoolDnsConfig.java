package io.tollgate.config;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * How a pool follows DNS: server addresses written as host names are looked up again every {@code
 * resolve-every}, each A/AAAA record a server of the entry's weight; with {@code srv}, servers also
 * come from that name's SRV records (target, port, priority, weight).
 *
 * @param resolveEvery time between two lookups of the pool's names (pool-wide: one timer per pool)
 * @param srv an SRV name such as {@code _https._tcp.tenant.example}, or empty
 */
public record PoolDnsConfig(Duration resolveEvery, Optional<String> srv) {
  public static final Duration DEFAULT_RESOLVE_EVERY = Duration.ofSeconds(30);

  /** Names re-resolved every 30 s, no SRV. */
  public static final PoolDnsConfig DEFAULTS =
      new PoolDnsConfig(DEFAULT_RESOLVE_EVERY, Optional.empty());

  public PoolDnsConfig {
    Objects.requireNonNull(resolveEvery, "resolveEvery");
    Objects.requireNonNull(srv, "srv");
    if (resolveEvery.isZero() || resolveEvery.isNegative()) {
      throw new IllegalArgumentException("resolveEvery must be positive");
    }
  }
}
