package io.tollgate.config;

/**
 * Admission of one route's client-facing TLS handshakes (offload and reencrypt routes, issue 16):
 * {@code handshakes-per-second}, {@code handshakes-burst} and {@code concurrent-handshakes}, on a
 * route ({@code routes[].limits}) or as every route's default ({@code limits.per-route}). A
 * handshake over a limit is refused before Tollgate does any TLS work for it.
 *
 * @param perSecond new handshakes the route may start per second, on average; 0 = no limit
 * @param burst how many may start at once after a quiet spell (the token bucket's size); 0 exactly
 *     when {@code perSecond} is 0
 * @param concurrent handshakes in progress at once on the route; 0 = no limit
 */
public record HandshakeLimits(int perSecond, int burst, int concurrent) {
  /** No handshake limit. */
  public static final HandshakeLimits NONE = new HandshakeLimits(0, 0, 0);

  /** Ceiling of the rate and the burst: far beyond what one process can handshake. */
  public static final int MAX_PER_SECOND = 1_000_000;

  /** A rate whose burst is one second's worth. */
  public static HandshakeLimits of(int perSecond, int concurrent) {
    return new HandshakeLimits(perSecond, perSecond, concurrent);
  }

  public HandshakeLimits {
    if (perSecond < 0 || perSecond > MAX_PER_SECOND || burst < 0 || burst > MAX_PER_SECOND) {
      throw new IllegalArgumentException("handshake rate or burst out of range");
    }
    if ((perSecond == 0) != (burst == 0)) {
      throw new IllegalArgumentException("a burst goes with a rate, and a rate needs a burst");
    }
    if (concurrent < 0 || concurrent > Limits.MAX_MAX_CONNECTIONS) {
      throw new IllegalArgumentException("concurrent handshakes out of range");
    }
  }

  /** Whether any limit is set. */
  public boolean any() {
    return perSecond > 0 || concurrent > 0;
  }
}
