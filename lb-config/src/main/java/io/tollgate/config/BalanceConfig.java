package io.tollgate.config;

import java.time.Duration;
import java.util.Locale;
import java.util.Objects;

/**
 * How a pool spreads new connections over its servers: {@code balance}, {@code slow-start} and
 * {@code on-all-down} under {@code tollgate.pools.NAME}.
 *
 * @param algorithm which server a new connection tries first
 * @param slowStart how long a server that comes back up takes to reach its full weight (its weight
 *     ramps up linearly); zero turns slow start off. Not applied to the hash algorithms, whose
 *     mapping must not drift.
 * @param onAllDown what to do when no server of the pool is up
 */
public record BalanceConfig(Algorithm algorithm, Duration slowStart, OnAllDown onAllDown) {

  /** {@code balance = ...}. */
  public enum Algorithm {
    /** Smooth weighted round-robin (nginx's). */
    ROUND_ROBIN,
    /** Fewest active connections relative to weight. */
    LEAST_CONN,
    /** Power of two choices: two random servers (by weight), the one with fewer connections. */
    RANDOM_TWO,
    /** Consistent hashing of the client's IP address. */
    SOURCE_HASH,
    /** Consistent hashing of the SNI host name (the client's address when there is no SNI). */
    SNI_HASH;

    public String configName() {
      return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** Whether the first server depends only on the client (no ramp, no rotation). */
    public boolean hashes() {
      return this == SOURCE_HASH || this == SNI_HASH;
    }
  }

  /** {@code on-all-down = ...}. */
  public enum OnAllDown {
    /** Refuse new connections with reason {@code no_healthy_backend}. */
    REJECT,
    /** Try the servers anyway, in balancing order, as if they were up. */
    TRY_ALL;

    public String configName() {
      return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
  }

  public static final BalanceConfig DEFAULTS =
      new BalanceConfig(Algorithm.ROUND_ROBIN, Duration.ZERO, OnAllDown.REJECT);

  public BalanceConfig {
    Objects.requireNonNull(algorithm, "algorithm");
    Objects.requireNonNull(slowStart, "slowStart");
    if (slowStart.isNegative()) {
      throw new IllegalArgumentException("slowStart must not be negative");
    }
    Objects.requireNonNull(onAllDown, "onAllDown");
  }
}
