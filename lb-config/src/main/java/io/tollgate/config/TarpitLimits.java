package io.tollgate.config;

import java.time.Duration;
import java.util.Objects;

/**
 * How Tollgate paces handshakes refused by a route's admission ({@code tollgate.limits.tarpit},
 * issue 16): a refused connection is held, reading nothing, for {@code delay} before its alert and
 * close, so a client that reconnects as soon as it is refused makes one attempt per delay, not
 * thousands a second. Bounded over all routes and per route; past a bound a refusal closes at once.
 *
 * @param delay how long a refused handshake's connection is held; zero refuses at once
 * @param maxHeld connections held at once over every route
 * @param maxHeldPerRoute connections held at once for one route, so one flooded route never takes
 *     every place
 */
public record TarpitLimits(Duration delay, int maxHeld, int maxHeldPerRoute) {
  /** Longest accepted delay: a refusal is not a way to park connections for good. */
  public static final Duration MAX_DELAY = Duration.ofMinutes(1);

  /** One second, up to 10,000 connections held, 1,000 of them for one route. */
  public static final TarpitLimits DEFAULT = new TarpitLimits(Duration.ofSeconds(1), 10_000, 1_000);

  /** Refusals close at once. */
  public static final TarpitLimits OFF = new TarpitLimits(Duration.ZERO, 0, 0);

  public TarpitLimits {
    Objects.requireNonNull(delay, "delay");
    if (delay.isNegative() || delay.compareTo(MAX_DELAY) > 0) {
      throw new IllegalArgumentException("tarpit delay out of range: " + delay);
    }
    if (maxHeld < 0
        || maxHeld > Limits.MAX_MAX_CONNECTIONS
        || maxHeldPerRoute < 0
        || maxHeldPerRoute > Limits.MAX_MAX_CONNECTIONS) {
      throw new IllegalArgumentException("tarpit bound out of range");
    }
  }

  /** Whether refusals are held at all. */
  public boolean holds() {
    return !delay.isZero() && maxHeld > 0 && maxHeldPerRoute > 0;
  }
}
