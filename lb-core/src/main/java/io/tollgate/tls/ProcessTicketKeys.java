package io.tollgate.tls;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * The ticket keys of this process when no {@code tls.session-ticket-keys} file is configured:
 * random, kept across reloads, and replaced every {@link #ROTATION} (the previous key still
 * decrypts for one more period, so tickets issued just before a rotation stay good). Rotation
 * happens when {@link #current} is asked after the period; Tollgate asks every minute and installs
 * what changed ({@link TlsMaterial#refreshTicketKeys}).
 */
final class ProcessTicketKeys {
  /** How long one random key encrypts new tickets. */
  static final Duration ROTATION = Duration.ofHours(12);

  private static final ProcessTicketKeys PROCESS =
      new ProcessTicketKeys(Clock.systemUTC(), ROTATION);

  private final Clock clock;
  private final Duration period;
  private TicketKeys keys;
  private Instant rotatedAt;

  ProcessTicketKeys(Clock clock, Duration period) {
    this.clock = clock;
    this.period = period;
  }

  /** The keys of this process (one instance for the JVM). */
  static ProcessTicketKeys process() {
    return PROCESS;
  }

  /**
   * The keys now, current first: one key during the first period, then the current and the previous
   * one. The same instance until the next rotation, so callers can tell a change by identity.
   */
  synchronized TicketKeys current() {
    Instant now = clock.instant();
    if (keys == null) {
      keys = TicketKeys.random(1);
      rotatedAt = now;
    } else if (!now.isBefore(rotatedAt.plus(period))) {
      keys = keys.rotated(TicketKeys.random(1).key(0));
      rotatedAt = now;
    }
    return keys;
  }
}
