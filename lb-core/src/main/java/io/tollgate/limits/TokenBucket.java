package io.tollgate.limits;

/**
 * New connections (or handshakes) one client address (or route) may still start: holds at most
 * {@code capacity} tokens, one second's worth unless said, refilled continuously at {@code rate}
 * per second, so a burst of {@code capacity} passes and then {@code rate} per second. Synchronized:
 * one address's connections arrive on any event loop.
 */
final class TokenBucket {
  private double tokens;
  private long lastNanos;

  /** A full bucket of {@code capacity} tokens. */
  TokenBucket(int capacity, long nowNanos) {
    this.tokens = capacity;
    this.lastNanos = nowNanos;
  }

  /** Takes a token if there is one; {@code rate} is read each time so a reload applies at once. */
  boolean tryTake(int rate, long nowNanos) {
    return tryTake(rate, rate, nowNanos);
  }

  /** As {@link #tryTake(int, long)}, holding at most {@code capacity} tokens. */
  synchronized boolean tryTake(int rate, int capacity, long nowNanos) {
    long elapsed = nowNanos - lastNanos;
    if (elapsed > 0) {
      tokens = Math.min(capacity, tokens + elapsed * (rate / 1e9));
      lastNanos = nowNanos;
    } else if (tokens > capacity) {
      tokens = capacity; // a reload lowered the burst
    }
    if (tokens >= 1) {
      tokens -= 1;
      return true;
    }
    return false;
  }
}
