package io.tollgate.limits;

/**
 * New connections one client address may still open: holds at most one second's worth of tokens,
 * refilled continuously at {@code rate} per second, so a burst of {@code rate} connections passes
 * and then {@code rate} per second. Synchronized: one address's connections arrive on any event
 * loop.
 */
final class TokenBucket {
  private double tokens;
  private long lastNanos;

  TokenBucket(int rate, long nowNanos) {
    this.tokens = rate;
    this.lastNanos = nowNanos;
  }

  /** Takes a token if there is one; {@code rate} is read each time so a reload applies at once. */
  synchronized boolean tryTake(int rate, long nowNanos) {
    long elapsed = nowNanos - lastNanos;
    if (elapsed > 0) {
      tokens = Math.min(rate, tokens + elapsed * (rate / 1e9));
      lastNanos = nowNanos;
    }
    if (tokens >= 1) {
      tokens -= 1;
      return true;
    }
    return false;
  }
}
