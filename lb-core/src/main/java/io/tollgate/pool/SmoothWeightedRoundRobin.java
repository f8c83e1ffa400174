package io.tollgate.pool;

/**
 * nginx's smooth weighted round-robin: each pick adds every eligible server's weight to its current
 * score, takes the highest, and subtracts the eligible total from the winner. Weights {5,1,1} give
 * a,a,b,a,c,a,a rather than a,a,a,a,a,b,c, so a heavy server never gets a burst. Servers that are
 * down, draining or full are left out of a pick; weights may change from pick to pick (slow start).
 *
 * <p>Shared by every event loop; picks are a few arithmetic operations under a lock, far cheaper
 * than the connect that follows.
 */
final class SmoothWeightedRoundRobin {
  private final long[] current;

  SmoothWeightedRoundRobin(int servers) {
    current = new long[servers];
  }

  /** Index of the next server among those with {@code eligible[i]}; at least one must be. */
  synchronized int next(boolean[] eligible, long[] weights) {
    int best = -1;
    long total = 0;
    for (int i = 0; i < current.length; i++) {
      if (!eligible[i]) {
        continue;
      }
      current[i] += weights[i];
      total += weights[i];
      if (best < 0 || current[i] > current[best]) {
        best = i;
      }
    }
    current[best] -= total;
    return best;
  }
}
