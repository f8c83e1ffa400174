package io.tollgate.health;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything about one server of one pool that must outlive a config snapshot: whether it is up,
 * since when (for slow start), whether it is draining, how many connections it carries and how many
 * connects in a row have failed.
 *
 * <p>The data path reads it on every new connection from any event loop: reads are volatile or
 * atomic, never locked. State changes (rare) are synchronized and logged once each, with the
 * reason.
 */
public final class ServerState {
  private static final Logger log = LoggerFactory.getLogger("io.tollgate.health");

  /** {@link #rampStartNanos()} when the server never came back from down. */
  public static final long NO_RAMP = Long.MIN_VALUE;

  private final ServerKey key;
  private final String label;
  private final LongSupplier ticker;
  private volatile boolean up;
  private volatile long rampStartNanos = NO_RAMP;
  private volatile boolean draining;
  private volatile String reason;

  /** Bumped on every up/down change; a monitor resets its rise/fall counts when it moves. */
  private volatile int transitions;

  private final AtomicInteger active = new AtomicInteger();
  private final AtomicInteger connectFailures = new AtomicInteger();

  /**
   * @param label how logs name the server, e.g. {@code 10.0.0.1:443}
   * @param ticker nanosecond clock (tests inject one)
   */
  public ServerState(ServerKey key, String label, boolean initiallyUp, LongSupplier ticker) {
    this.key = key;
    this.label = label;
    this.ticker = ticker;
    this.up = initiallyUp;
    this.reason = initiallyUp ? "initial state up" : "initial state down";
  }

  public ServerKey key() {
    return key;
  }

  public String label() {
    return label;
  }

  public boolean isUp() {
    return up;
  }

  /** When the server last came back up after being down, or {@link #NO_RAMP}. */
  public long rampStartNanos() {
    return rampStartNanos;
  }

  public boolean isDraining() {
    return draining;
  }

  /** Why the state is what it is (the last transition's reason). */
  public String reason() {
    return reason;
  }

  int transitions() {
    return transitions;
  }

  /**
   * Marks the server up. {@code ramp} starts slow start (false for the first success after an
   * initial-down start, which is not a recovery).
   *
   * @return whether the state changed
   */
  public synchronized boolean markUp(String why, boolean ramp) {
    if (up) {
      return false;
    }
    up = true;
    rampStartNanos = ramp ? ticker.getAsLong() : NO_RAMP;
    reason = why;
    transitions++;
    connectFailures.set(0);
    log.info("pool {} server {} is UP: {}", key.pool(), label, why);
    return true;
  }

  /** Marks the server down; returns whether the state changed. */
  public synchronized boolean markDown(String why) {
    if (!up) {
      return false;
    }
    up = false;
    reason = why;
    transitions++;
    log.warn("pool {} server {} is DOWN: {}", key.pool(), label, why);
    return true;
  }

  /**
   * Puts the server into drain (no new connections; open ones continue) or takes it out.
   *
   * @return whether the setting changed
   */
  public synchronized boolean drain(boolean on) {
    if (draining == on) {
      return false;
    }
    draining = on;
    log.info(
        "pool {} server {} {}: {} open connection(s)",
        key.pool(),
        label,
        on ? "is draining (no new connections)" : "is no longer draining",
        active.get());
    return true;
  }

  /** Connections open (or being opened) to this server now. */
  public int activeConnections() {
    return active.get();
  }

  /**
   * Counts a new connection unless that would exceed {@code max} (0 = no limit).
   *
   * @return false when the server is full
   */
  public boolean tryAcquire(int max) {
    if (max <= 0) {
      active.incrementAndGet();
      return true;
    }
    while (true) {
      int n = active.get();
      if (n >= max) {
        return false;
      }
      if (active.compareAndSet(n, n + 1)) {
        return true;
      }
    }
  }

  /** A connection counted by {@link #tryAcquire} ended (or its connect failed). */
  public void release() {
    active.decrementAndGet();
  }

  /** Records a failed connect; returns the number of consecutive failures so far. */
  int connectFailed() {
    return connectFailures.incrementAndGet();
  }

  /** A connect succeeded: the run of failures is over. Cheap when there was none. */
  void connectSucceeded() {
    if (connectFailures.get() != 0) {
      connectFailures.set(0);
    }
  }

  @Override
  public String toString() {
    return "pool "
        + key.pool()
        + " server "
        + label
        + (up ? " up" : " down")
        + (draining ? " draining" : "")
        + " active="
        + active.get();
  }
}
