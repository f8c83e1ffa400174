package io.tollgate.pool;

import java.util.List;

/**
 * nginx's smooth weighted round-robin: each pick adds every server's weight to its current score,
 * takes the highest, and subtracts the total from the winner. Weights {5,1,1} give
 * a,a,b,a,c,a,a rather than a,a,a,a,a,b,c, so a heavy server never gets a burst.
 *
 * <p>Shared by every event loop; picks are a few arithmetic operations under a lock, far cheaper
 * than the connect that follows.
 */
final class SmoothWeightedRoundRobin {
  private final int[] weights;
  private final int total;
  private final long[] current;

  SmoothWeightedRoundRobin(List<Backend> servers) {
    weights = new int[servers.size()];
    int sum = 0;
    for (int i = 0; i < weights.length; i++) {
      weights[i] = servers.get(i).weight();
      sum += weights[i];
    }
    total = sum;
    current = new long[weights.length];
  }

  /** Index of the next server. */
  synchronized int next() {
    int best = 0;
    for (int i = 0; i < weights.length; i++) {
      current[i] += weights[i];
      if (current[i] > current[best]) {
        best = i;
      }
    }
    current[best] -= total;
    return best;
  }
}
