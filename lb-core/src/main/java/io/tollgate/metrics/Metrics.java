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

  /**
   * The counters in Prometheus text exposition format 0.0.4, served by the admin endpoint's
   * {@code GET /metrics}.
   *
   * <p>PLACEHOLDER (issue 6a): a minimal hand-written body so the endpoint works on this branch.
   * The metrics work of issue 6 (branch i6-obs) replaces this class with a metrics library and
   * its own {@code scrape()}; on merge, take theirs.
   */
  public String scrape() {
    StringBuilder sb = new StringBuilder(1024);
    counter(sb, "tollgate_connections_accepted_total", "Client connections accepted.",
        acceptedCount());
    sb.append("# HELP tollgate_connections_active Client connections open now.\n")
        .append("# TYPE tollgate_connections_active gauge\n")
        .append("tollgate_connections_active ").append(activeCount()).append('\n');
    sb.append("# HELP tollgate_connections_closed_total Client connections closed, by reason.\n")
        .append("# TYPE tollgate_connections_closed_total counter\n");
    for (CloseReason r : CloseReason.values()) {
      sb.append("tollgate_connections_closed_total{reason=\"").append(r.label()).append("\"} ")
          .append(closedCount(r)).append('\n');
    }
    counter(sb, "tollgate_client_bytes_total", "Bytes received from clients.", bytesFromClients());
    counter(sb, "tollgate_backend_bytes_total", "Bytes received from backends.",
        bytesFromBackends());
    return sb.toString();
  }

  private static void counter(StringBuilder sb, String name, String help, long value) {
    sb.append("# HELP ").append(name).append(' ').append(help).append('\n')
        .append("# TYPE ").append(name).append(" counter\n")
        .append(name).append(' ').append(value).append('\n');
  }
}
