package io.tollgate.fuzz;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The ways one input is cut into socket reads: whole, one byte per read, and a few random cuts. The
 * random cuts are seeded from the input itself, so a reported crash input replays exactly.
 */
final class ReadPlans {
  private static final int RANDOM_PLANS = 3;

  private ReadPlans() {}

  /** Each plan is the list of read sizes, summing to {@code data.length}. */
  static List<int[]> of(byte[] data) {
    List<int[]> plans = new ArrayList<>();
    plans.add(new int[] {data.length});
    int[] single = new int[data.length];
    Arrays.fill(single, 1);
    plans.add(single);
    SplittableRandom random = new SplittableRandom(Arrays.hashCode(data));
    for (int p = 0; p < RANDOM_PLANS; p++) {
      List<Integer> sizes = new ArrayList<>();
      // Mostly small reads (TCP segments of a slow or hostile client), sometimes large ones.
      int bound = random.nextBoolean() ? 8 : 600;
      for (int left = data.length; left > 0; ) {
        int n = Math.min(left, 1 + random.nextInt(bound));
        sizes.add(n);
        left -= n;
      }
      plans.add(sizes.stream().mapToInt(Integer::intValue).toArray());
    }
    return plans;
  }

  /** "whole", "1-byte reads" or the first read sizes, for assertion messages. */
  static String describe(int[] plan) {
    if (plan.length <= 1) {
      return "whole";
    }
    if (Arrays.stream(plan).allMatch(n -> n == 1)) {
      return "1-byte reads";
    }
    int[] head = Arrays.copyOf(plan, Math.min(plan.length, 12));
    return plan.length + " reads " + Arrays.toString(head) + (plan.length > 12 ? "..." : "");
  }
}
