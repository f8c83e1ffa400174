package io.tollgate.health;

import java.util.ArrayDeque;

/**
 * Bounds how many probes run at once; the rest wait their turn in order. Used only on the health
 * event loop, so it needs no locks. Probes are non-blocking and each is bounded by its own timeout,
 * so a slow server holds one slot for at most that long and never delays the probes of others
 * beyond their turn.
 */
final class ProbeLimiter {
  private final int max;
  private final ArrayDeque<Runnable> waiting = new ArrayDeque<>();
  private int running;

  ProbeLimiter(int max) {
    if (max < 1) {
      throw new IllegalArgumentException("max must be >= 1");
    }
    this.max = max;
  }

  /** Runs {@code start} now or when a slot frees; {@code start} must lead to {@link #done}. */
  void submit(Runnable start) {
    if (running < max) {
      running++;
      start.run();
    } else {
      waiting.add(start);
    }
  }

  /** A probe finished: its slot goes to the next waiting one. */
  void done() {
    Runnable nextStart = waiting.poll();
    if (nextStart != null) {
      nextStart.run();
    } else {
      running--;
    }
  }

  int running() {
    return running;
  }
}
