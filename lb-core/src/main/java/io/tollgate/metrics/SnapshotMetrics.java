package io.tollgate.metrics;

import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.tollgate.pool.Backend;
import io.tollgate.pool.Pool;
import io.tollgate.snapshot.Snapshot;
import io.tollgate.tls.CertifiedKey;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Gauges read from the snapshot in force when Prometheus scrapes: each server's health, drain state
 * and open connections, and how long each certificate has left. Nothing is registered per server or
 * certificate, so a reload that changes them needs no bookkeeping, and servers or certificates
 * removed by a reload disappear from the next scrape.
 */
final class SnapshotMetrics {
  private SnapshotMetrics() {}

  static void register(PrometheusRegistry registry, Supplier<Snapshot> snapshot) {
    GaugeWithCallback.builder()
        .name("tollgate_server_up")
        .help("1 when the server is up (health checks and passive ejection), else 0")
        .labelNames("pool", "server")
        .callback(
            cb ->
                eachServer(
                    snapshot, (p, b) -> cb.call(b.state().isUp() ? 1 : 0, p.name(), b.label())))
        .register(registry);
    GaugeWithCallback.builder()
        .name("tollgate_server_draining")
        .help("1 when the server is draining (no new connections), else 0")
        .labelNames("pool", "server")
        .callback(
            cb ->
                eachServer(
                    snapshot,
                    (p, b) -> cb.call(b.state().isDraining() ? 1 : 0, p.name(), b.label())))
        .register(registry);
    GaugeWithCallback.builder()
        .name("tollgate_server_connections_active")
        .help("Backend connections open (or being opened) to the server")
        .labelNames("pool", "server")
        .callback(
            cb ->
                eachServer(
                    snapshot,
                    (p, b) -> cb.call(b.state().activeConnections(), p.name(), b.label())))
        .register(registry);
    GaugeWithCallback.builder()
        .name("tollgate_pool_dns_stale")
        .help(
            "1 when the last lookup of one of the pool's names failed and the pool keeps that"
                + " name's last good addresses, else 0 (DNS-aware pools only)")
        .labelNames("pool")
        .callback(
            cb -> {
              Snapshot s = snapshot.get();
              if (s != null) {
                s.poolServers()
                    .forEach(
                        (name, ps) -> {
                          if (ps.followsDns()) {
                            cb.call(ps.stale() ? 1 : 0, name);
                          }
                        });
              }
            })
        .register(registry);
    GaugeWithCallback.builder()
        .name("tollgate_certificate_expiry_seconds")
        .help(
            "Seconds until the certificate's chain stops being valid (the earliest notAfter"
                + " of leaf and intermediates; negative once expired), per server certificate of"
                + " the config in force: chain file and first DNS name")
        .labelNames("file", "name")
        .callback(
            cb ->
                certificates(snapshot)
                    .forEach(
                        (labels, notAfterMillis) ->
                            cb.call(
                                (notAfterMillis - System.currentTimeMillis()) / 1000.0,
                                labels.get(0),
                                labels.get(1))))
        .register(registry);
  }

  private interface ServerAction {
    void accept(Pool pool, Backend server);
  }

  private static void eachServer(Supplier<Snapshot> snapshot, ServerAction action) {
    Snapshot s = snapshot.get();
    if (s == null) {
      return;
    }
    for (Pool pool : s.pools().values()) {
      // Two entries for one address would be one label set twice; the first one wins.
      java.util.Set<String> seen = new java.util.HashSet<>();
      for (Backend b : pool.servers()) {
        if (seen.add(b.label())) {
          action.accept(pool, b);
        }
      }
    }
  }

  /** (file, name) to notAfter in epoch millis; one entry per label set, the earliest expiry. */
  private static Map<List<String>, Long> certificates(Supplier<Snapshot> snapshot) {
    Map<List<String>, Long> out = new LinkedHashMap<>();
    Snapshot s = snapshot.get();
    if (s == null || s.tls() == null) {
      return out;
    }
    for (CertifiedKey c : s.tls().certificates()) {
      List<String> names = c.dnsNames();
      List<String> labels =
          List.of(c.chainFile().toString(), names.isEmpty() ? c.subject() : names.get(0));
      out.merge(labels, c.notAfter().toEpochMilli(), Math::min);
    }
    return out;
  }
}
