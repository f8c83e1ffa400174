package io.tollgate.pool;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * Consistent hashing (a ring with virtual nodes per unit of weight) for source-hash and sni-hash. A
 * server's points depend only on its label (its configured address), so adding or removing one of N
 * servers moves only the keys that land on its points, about 1/N of them; a server that is down is
 * skipped by walking on to the next point, which moves only its own keys.
 */
final class HashRing {
  /** Bounds the ring to about this many points whatever the weights. */
  private static final int MAX_POINTS = 160_000;

  /** Ketama's (and nginx's) 160 points per unit of weight. */
  private static final int MAX_POINTS_PER_WEIGHT = 160;

  private final long[] points;
  private final int[] owners;

  HashRing(List<Backend> servers) {
    long totalWeight = Math.max(1, servers.stream().mapToLong(Backend::weight).sum());
    int perWeight = (int) Math.max(4, Math.min(MAX_POINTS_PER_WEIGHT, MAX_POINTS / totalWeight));
    int n = 0;
    for (Backend b : servers) {
      n += b.weight() * perWeight;
    }
    long[][] pairs = new long[n][];
    int k = 0;
    for (int s = 0; s < servers.size(); s++) {
      String id = servers.get(s).label();
      for (int v = 0; v < servers.get(s).weight() * perWeight; v++) {
        pairs[k++] = new long[] {hash((id + "#" + v).getBytes(StandardCharsets.UTF_8)), s};
      }
    }
    Arrays.sort(pairs, (a, b) -> Long.compare(a[0], b[0]));
    points = new long[n];
    owners = new int[n];
    for (int i = 0; i < n; i++) {
      points[i] = pairs[i][0];
      owners[i] = (int) pairs[i][1];
    }
  }

  /**
   * Servers in ring order from the key's point: the first eligible one owns the key, the next
   * distinct eligible ones are where it fails over. At most {@code limit} entries.
   */
  int[] walk(long keyHash, boolean[] eligible, int limit) {
    int start = Arrays.binarySearch(points, keyHash);
    if (start < 0) {
      start = -start - 1;
    }
    int[] out = new int[limit];
    int found = 0;
    boolean[] seen = new boolean[eligible.length];
    for (int i = 0; i < points.length && found < limit; i++) {
      int owner = owners[(start + i) % points.length];
      if (eligible[owner] && !seen[owner]) {
        seen[owner] = true;
        out[found++] = owner;
      }
    }
    return found == limit ? out : Arrays.copyOf(out, found);
  }

  /** 64-bit FNV-1a, finished with MurmurHash3's fmix64 so nearby keys spread over the ring. */
  static long hash(byte[] data) {
    long h = 0xcbf29ce484222325L;
    for (byte b : data) {
      h ^= b & 0xff;
      h *= 0x100000001b3L;
    }
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    h *= 0xc4ceb9fe1a85ec53L;
    h ^= h >>> 33;
    return h;
  }
}
