package io.tollgate.config;

import java.time.Duration;
import java.util.Objects;

/**
 * {@code tollgate.pools.NAME.passive-ejection}: taking a server out on the evidence of real
 * connections, without waiting for the next probe.
 *
 * @param failures consecutive connect failures that mark a server down at once; 0 turns passive
 *     ejection off
 * @param backoff for pools without an active check: how long an ejected server stays out before it
 *     is tried again (with an active check, probes bring it back after rise successes)
 */
public record PassiveEjectionConfig(int failures, Duration backoff) {
  public static final int MAX_FAILURES = 1000;
  public static final PassiveEjectionConfig DEFAULTS =
      new PassiveEjectionConfig(3, Duration.ofSeconds(10));
  public static final PassiveEjectionConfig OFF =
      new PassiveEjectionConfig(0, Duration.ofSeconds(10));

  public PassiveEjectionConfig {
    if (failures < 0 || failures > MAX_FAILURES) {
      throw new IllegalArgumentException("failures out of range: " + failures);
    }
    Objects.requireNonNull(backoff, "backoff");
    if (backoff.isZero() || backoff.isNegative()) {
      throw new IllegalArgumentException("backoff must be a positive duration");
    }
  }

  public boolean enabled() {
    return failures > 0;
  }
}
