package io.tollgate.metrics;

import io.tollgate.connection.CloseReason;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * Process-wide connection counters. {@link LongAdder}s because every event loop updates them on
 * every connection and contention must not serialise the loops.
 *
 * <p>Plain counters for now; the operations issue exposes them (and more) in Prometheus format.
 */
public final class Metrics {
  private final LongAdder accepted = new LongAdder();
  private final LongAdder active = new LongAdder();
  private final LongAdder backendsOpen = new LongAdder();
  private final LongAdder bytesFromClients = new LongAdder();
  private final LongAdder bytesFromBackends = new LongAdder();
  private final Map<CloseReason, LongAdder> closed = new EnumMap<>(CloseReason.class);

  public Metrics() {
    for (CloseReason r : CloseReason.values()) {
      closed.put(r, new LongAdder());
    }
  }

  public void accepted() {
    accepted.increment();
    active.increment();
  }

  public void closed(CloseReason reason, long fromClient, long fromBackend) {
    active.decrement();
    closed.get(reason).increment();
    bytesFromClients.add(fromClient);
    bytesFromBackends.add(fromBackend);
  }

  /** A backend connection was established. */
  public void backendOpened() {
    backendsOpen.increment();
  }

  /** A backend connection closed, whatever the reason. */
  public void backendClosed() {
    backendsOpen.decrement();
  }

  /** Backend connections open now; can outlive their client connection only briefly. */
  public long openBackendConnections() {
    return backendsOpen.sum();
  }

  public long acceptedCount() {
    return accepted.sum();
  }

  public long activeCount() {
    return active.sum();
  }

  public long closedCount(CloseReason reason) {
    return closed.get(reason).sum();
  }

  public long bytesFromClients() {
    return bytesFromClients.sum();
  }

  public long bytesFromBackends() {
    return bytesFromBackends.sum();
  }

  /** Closed connections by reason, only the non-zero ones; for logs and tests. */
  public Map<CloseReason, Long> closedByReason() {
    Map<CloseReason, Long> out = new EnumMap<>(CloseReason.class);
    closed.forEach((r, n) -> {
      long v = n.sum();
      if (v > 0) {
        out.put(r, v);
      }
    });
    return out;
  }
}
