package io.tollgate.dns;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Lookups per pool and outcome ({@code success}, {@code failure}) for the life of the process, so
 * the {@code tollgate_dns_resolutions_total} counter never goes back when a reload builds new
 * pools.
 */
public final class DnsCounters {
  public static final String SUCCESS = "success";
  public static final String FAILURE = "failure";

  private final Map<String, Map<String, LongAdder>> counts = new ConcurrentHashMap<>();

  public void record(String pool, boolean ok) {
    counts
        .computeIfAbsent(pool, p -> new ConcurrentHashMap<>())
        .computeIfAbsent(ok ? SUCCESS : FAILURE, o -> new LongAdder())
        .increment();
  }

  /** Pool to outcome to count, sorted. */
  public Map<String, Map<String, Long>> snapshot() {
    Map<String, Map<String, Long>> out = new TreeMap<>();
    counts.forEach(
        (pool, byOutcome) -> {
          Map<String, Long> m = new TreeMap<>();
          byOutcome.forEach((o, n) -> m.put(o, n.sum()));
          out.put(pool, m);
        });
    return out;
  }
}
