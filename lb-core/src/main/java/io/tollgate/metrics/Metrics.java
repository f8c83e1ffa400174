package io.tollgate.metrics;

import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.tollgate.config.RouteMode;
import io.tollgate.connection.CloseReason;
import io.tollgate.connection.Connection;
import io.tollgate.dns.DnsCounters;
import io.tollgate.snapshot.Snapshot;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * Process-wide metrics of one Tollgate, exported in Prometheus text format by {@link #scrape()}
 * (served at {@code GET /metrics} by the admin endpoint).
 *
 * <p>The hot path only touches {@link LongAdder}s and pre-resolved data points: every event loop
 * updates them on every connection and contention must not serialise the loops. Labels come from
 * bounded sets (listener, route and pool names from the config, modes, close reasons), never from a
 * client address or SNI. Counts that exist elsewhere (server health, certificates) are read at
 * scrape time through callbacks, so sets that change on reload need no bookkeeping.
 *
 * <p>Each instance has its own registry: tests run several Tollgates in one JVM.
 */
public final class Metrics {
  static final double[] HELLO_SIZE_BUCKETS = {
    256, 512, 1024, 1536, 2048, 4096, 8192, 16384, 32768, 65536
  };
  static final double[] HANDSHAKE_BUCKETS = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
  };
  static final double[] CONNECT_BUCKETS = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5
  };
  private static final String FROM_CLIENT = "from_client";
  private static final String FROM_BACKEND = "from_backend";
  private static final String RATE_LIMITED = CloseReason.HANDSHAKE_RATE_LIMITED.label();
  private static final String CONCURRENCY_LIMITED =
      CloseReason.HANDSHAKE_CONCURRENCY_LIMITED.label();

  private final LongAdder accepted = new LongAdder();
  private final LongAdder active = new LongAdder();
  private final LongAdder backendsOpen = new LongAdder();
  private final LongAdder bytesFromClients = new LongAdder();
  private final LongAdder bytesFromBackends = new LongAdder();
  private final LongAdder spliced = new LongAdder();
  private final Map<CloseReason, LongAdder> closed = new EnumMap<>(CloseReason.class);
  private final LongAdder accessLogDropped = new LongAdder();
  private final Map<String, ListenerMetrics> listeners = new ConcurrentHashMap<>();

  /** Route name to its counters per mode (a reload may change a route's mode). */
  private final Map<String, RouteMetrics[]> routes = new ConcurrentHashMap<>();

  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final Histogram helloSize;
  private final Counter helloOutcomes;
  private final CounterDataPoint helloOk;
  private final Histogram handshakeSeconds;
  private final Counter handshakeFailures;
  private final Histogram connectSeconds;
  private final Counter reloads;
  private final Counter acceptErrors;
  // Data points of the per-connection labelled metrics, resolved on first use: an event costs no
  // label lookup (varargs, a List key, a map probe), and a label set appears in the scrape only
  // once it has counted something, as with labelValues per event.
  private final AtomicReferenceArray<CounterDataPoint> helloFailures =
      new AtomicReferenceArray<>(CloseReason.values().length);
  private final AtomicReferenceArray<DistributionDataPoint> handshakeByMode =
      new AtomicReferenceArray<>(RouteMode.values().length);
  private final Map<String, DistributionDataPoint> connectByPool = new ConcurrentHashMap<>();
  private volatile long lastReloadSuccessMillis = System.currentTimeMillis();

  public Metrics() {
    for (CloseReason r : CloseReason.values()) {
      closed.put(r, new LongAdder());
    }
    CounterWithCallback.builder()
        .name("tollgate_connections_accepted")
        .help("Client connections accepted, by listener")
        .labelNames("listener")
        .callback(cb -> listeners.forEach((n, l) -> cb.call(l.accepted.sum(), n)))
        .register(registry);
    GaugeWithCallback.builder()
        .name("tollgate_connections_active")
        .help("Client connections open now, by listener")
        .labelNames("listener")
        .callback(cb -> listeners.forEach((n, l) -> cb.call(l.active.sum(), n)))
        .register(registry);
    CounterWithCallback.builder()
        .name("tollgate_connections_closed")
        .help("Client connections closed, by close reason (README: Why connections end)")
        .labelNames("reason")
        .callback(cb -> closed.forEach((r, n) -> cb.call(n.sum(), r.label())))
        .register(registry);
    CounterWithCallback.builder()
        .name("tollgate_bytes")
        .help("Bytes relayed, from clients to backends and from backends to clients")
        .labelNames("direction")
        .callback(
            cb -> {
              cb.call(bytesFromClients.sum(), FROM_CLIENT);
              cb.call(bytesFromBackends.sum(), FROM_BACKEND);
            })
        .register(registry);
    CounterWithCallback.builder()
        .name("tollgate_spliced_bytes")
        .help("Bytes relayed with splice(2), both directions (io.splice)")
        .callback(cb -> cb.call(spliced.sum()))
        .register(registry);
    CounterWithCallback.builder()
        .name("tollgate_route_connections")
        .help("Client connections routed, by route and mode")
        .labelNames("route", "mode")
        .callback(cb -> eachRoute((r) -> cb.call(r.routed.sum(), r.route, r.mode)))
        .register(registry);
    GaugeWithCallback.builder()
        .name("tollgate_route_connections_active")
        .help("Client connections open now, by route and mode")
        .labelNames("route", "mode")
        .callback(cb -> eachRoute((r) -> cb.call(r.active.sum(), r.route, r.mode)))
        .register(registry);
    CounterWithCallback.builder()
        .name("tollgate_route_bytes")
        .help("Bytes relayed by closed connections, by route, mode and direction")
        .labelNames("route", "mode", "direction")
        .callback(
            cb ->
                eachRoute(
                    (r) -> {
                      cb.call(r.fromClient.sum(), r.route, r.mode, FROM_CLIENT);
                      cb.call(r.fromBackend.sum(), r.route, r.mode, FROM_BACKEND);
                    }))
        .register(registry);
    CounterWithCallback.builder()
        .name("tollgate_route_handshakes_refused")
        .help(
            "Client TLS handshakes refused by the route's handshake admission before any TLS"
                + " work, by route, mode and reason (handshake_rate_limited,"
                + " handshake_concurrency_limited)")
        .labelNames("route", "mode", "reason")
        .callback(
            cb ->
                eachRoute(
                    (r) -> {
                      long rate = r.rateLimited.sum();
                      long cap = r.concurrencyLimited.sum();
                      if (rate > 0) {
                        cb.call(rate, r.route, r.mode, RATE_LIMITED);
                      }
                      if (cap > 0) {
                        cb.call(cap, r.route, r.mode, CONCURRENCY_LIMITED);
                      }
                    }))
        .register(registry);
    GaugeWithCallback.builder()
        .name("tollgate_backend_connections_open")
        .help("Backend connections open now")
        .callback(cb -> cb.call(backendsOpen.sum()))
        .register(registry);
    helloSize =
        Histogram.builder()
            .name("tollgate_client_hello_size_bytes")
            .help("Size of parsed ClientHellos, in bytes of the TLS records that carried them")
            .classicOnly()
            .classicUpperBounds(HELLO_SIZE_BUCKETS)
            .withoutExemplars()
            .register(registry);
    helloOutcomes =
        Counter.builder()
            .name("tollgate_client_hello")
            .help("ClientHello inspections by outcome: ok, or the close reason of the failure")
            .labelNames("outcome")
            .withoutExemplars()
            .register(registry);
    helloOk = helloOutcomes.labelValues("ok");
    handshakeSeconds =
        Histogram.builder()
            .name("tollgate_tls_handshake_duration_seconds")
            .help("Client-facing TLS handshakes that completed (offload, reencrypt), by mode")
            .labelNames("mode")
            .classicOnly()
            .classicUpperBounds(HANDSHAKE_BUCKETS)
            .withoutExemplars()
            .register(registry);
    handshakeFailures =
        Counter.builder()
            .name("tollgate_tls_handshake_failures")
            .help(
                "Client-facing TLS handshakes that failed, by mode and reason"
                    + " (handshake, verify, timeout, closed)")
            .labelNames("mode", "reason")
            .withoutExemplars()
            .register(registry);
    connectSeconds =
        Histogram.builder()
            .name("tollgate_backend_connect_duration_seconds")
            .help(
                "Time to a connected backend (all attempts, and the backend TLS handshake for"
                    + " reencrypt), by pool")
            .labelNames("pool")
            .classicOnly()
            .classicUpperBounds(CONNECT_BUCKETS)
            .withoutExemplars()
            .register(registry);
    reloads =
        Counter.builder()
            .name("tollgate_config_reloads")
            .help("Config reloads by outcome (success, failure)")
            .labelNames("outcome")
            .withoutExemplars()
            .register(registry);
    reloads.initLabelValues("success");
    reloads.initLabelValues("failure");
    GaugeWithCallback.builder()
        .name("tollgate_config_last_reload_success_timestamp_seconds")
        .help("When the config in force was loaded (start or last successful reload)")
        .callback(cb -> cb.call(lastReloadSuccessMillis / 1000.0))
        .register(registry);
    CounterWithCallback.builder()
        .name("tollgate_access_log_dropped")
        .help("Access log lines dropped because the writer fell behind (slow or full disk)")
        .callback(cb -> cb.call(accessLogDropped.sum()))
        .register(registry);
    acceptErrors =
        Counter.builder()
            .name("tollgate_accept_errors")
            .help("Failed accepts (e.g. too many open files), by listener; each pauses accepting")
            .labelNames("listener")
            .withoutExemplars()
            .register(registry);
  }

  /**
   * Adds the gauges read from the snapshot in force at scrape time: server health per pool and
   * certificate expiry. Called once by Tollgate.
   */
  public void snapshotSource(Supplier<Snapshot> snapshot) {
    SnapshotMetrics.register(registry, snapshot);
  }

  /** Where other parts register metrics read at scrape time (the ACME manager's). */
  public PrometheusRegistry registry() {
    return registry;
  }

  /**
   * Adds {@code tollgate_dns_resolutions_total{pool,outcome}}: lookups of DNS-aware pools' names
   * (one per host name, SRV name and SRV target asked), counted for the life of the process.
   */
  public void dnsSource(DnsCounters counters) {
    CounterWithCallback.builder()
        .name("tollgate_dns_resolutions")
        .help(
            "DNS lookups of pools' server names by outcome (success; failure: the pool keeps the"
                + " name's last good addresses)")
        .labelNames("pool", "outcome")
        .callback(
            cb ->
                counters
                    .snapshot()
                    .forEach((pool, m) -> m.forEach((outcome, n) -> cb.call(n, pool, outcome))))
        .register(registry);
  }

  /** The counters of one listener; the listener's initializer holds them. */
  public ListenerMetrics listener(String name) {
    return listeners.computeIfAbsent(name, ListenerMetrics::new);
  }

  /** A client connection accepted on {@code listener}. */
  public void accepted(ListenerMetrics listener) {
    accepted.increment();
    active.increment();
    listener.accepted.increment();
    listener.active.increment();
  }

  /** A client connection of {@code listener} closed: counts its reason, bytes and route. */
  public void closed(Connection conn, ListenerMetrics listener) {
    active.decrement();
    closed.get(conn.reason()).increment();
    bytesFromClients.add(conn.bytesFromClient());
    bytesFromBackends.add(conn.bytesFromBackend());
    listener.active.decrement();
    if (conn.route() != null && conn.mode() != null) {
      RouteMetrics r = route(conn.route(), conn.mode());
      r.active.decrement();
      r.fromClient.add(conn.bytesFromClient());
      r.fromBackend.add(conn.bytesFromBackend());
    }
  }

  /** The connection was given a route (call after {@code Connection.routed}). */
  public void routed(Connection conn) {
    RouteMetrics r = route(conn.route(), conn.mode());
    r.routed.increment();
    r.active.increment();
  }

  private RouteMetrics route(String name, RouteMode mode) {
    RouteMetrics[] byMode =
        routes.computeIfAbsent(name, n -> new RouteMetrics[RouteMode.values().length]);
    RouteMetrics r = byMode[mode.ordinal()];
    if (r == null) {
      synchronized (byMode) {
        r = byMode[mode.ordinal()];
        if (r == null) {
          r = new RouteMetrics(name, mode.configName());
          byMode[mode.ordinal()] = r;
        }
      }
    }
    return r;
  }

  private void eachRoute(java.util.function.Consumer<RouteMetrics> action) {
    routes
        .values()
        .forEach(
            byMode -> {
              synchronized (byMode) {
                for (RouteMetrics r : byMode) {
                  if (r != null) {
                    action.accept(r);
                  }
                }
              }
            });
  }

  /**
   * The routed connection's handshake was refused by its route's handshake admission, for {@code
   * reason} ({@link CloseReason#HANDSHAKE_RATE_LIMITED} or {@link
   * CloseReason#HANDSHAKE_CONCURRENCY_LIMITED}); the close counts it by reason as any close.
   */
  public void handshakeRefused(Connection conn, CloseReason reason) {
    RouteMetrics r = route(conn.route(), conn.mode());
    (reason == CloseReason.HANDSHAKE_RATE_LIMITED ? r.rateLimited : r.concurrencyLimited)
        .increment();
  }

  /** Handshakes of {@code route} refused for {@code reason}, over its modes (tests). */
  public long handshakesRefused(String route, CloseReason reason) {
    RouteMetrics[] byMode = routes.get(route);
    long n = 0;
    if (byMode != null) {
      synchronized (byMode) {
        for (RouteMetrics r : byMode) {
          if (r != null) {
            n +=
                (reason == CloseReason.HANDSHAKE_RATE_LIMITED
                        ? r.rateLimited
                        : r.concurrencyLimited)
                    .sum();
          }
        }
      }
    }
    return n;
  }

  /** A ClientHello was parsed; {@code recordBytes} is its size on the wire. */
  public void helloParsed(int recordBytes) {
    helloOk.inc();
    helloSize.observe(recordBytes);
  }

  /** Inspection ended without a hello, for {@code reason}. */
  public void helloFailed(CloseReason reason) {
    CounterDataPoint p = helloFailures.get(reason.ordinal());
    if (p == null) {
      p = helloOutcomes.labelValues(reason.label()); // the same data point on every thread
      helloFailures.set(reason.ordinal(), p);
    }
    p.inc();
  }

  /** A client-facing handshake completed after {@code nanos}. */
  public void handshakeCompleted(RouteMode mode, long nanos) {
    if (nanos >= 0) {
      DistributionDataPoint h = handshakeByMode.get(mode.ordinal());
      if (h == null) {
        h = handshakeSeconds.labelValues(mode.configName());
        handshakeByMode.set(mode.ordinal(), h);
      }
      h.observe(nanos / 1e9);
    }
  }

  /** A client-facing handshake failed; {@code reason} is one of a few fixed words. */
  public void handshakeFailed(RouteMode mode, String reason) {
    handshakeFailures.labelValues(mode.configName(), reason).inc();
  }

  /** A backend of {@code pool} was connected after {@code nanos}. */
  public void backendConnected(String pool, long nanos) {
    DistributionDataPoint h = connectByPool.get(pool);
    if (h == null) {
      h = connectByPool.computeIfAbsent(pool, connectSeconds::labelValues);
    }
    h.observe(nanos / 1e9);
  }

  /** A config reload was attempted; {@code ok} when the new config is now in force. */
  public void reloaded(boolean ok) {
    reloads.labelValues(ok ? "success" : "failure").inc();
    if (ok) {
      lastReloadSuccessMillis = System.currentTimeMillis();
    }
  }

  /** An accept on {@code listener} failed. */
  public void acceptFailed(String listener) {
    acceptErrors.labelValues(listener).inc();
  }

  /** A backend connection was established. */
  public void backendOpened() {
    backendsOpen.increment();
  }

  /** A backend connection closed, whatever the reason. */
  public void backendClosed() {
    backendsOpen.decrement();
  }

  /** An access log line was dropped: the writer's queue was full. */
  public void accessLogDropped() {
    accessLogDropped.increment();
  }

  public long accessLogDroppedCount() {
    return accessLogDropped.sum();
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

  /** {@code n} bytes were relayed by splice (io.splice), counted as they move. */
  public void spliced(long n) {
    spliced.add(n);
  }

  public long splicedBytes() {
    return spliced.sum();
  }

  /** Closed connections by reason, only the non-zero ones; for logs and tests. */
  public Map<CloseReason, Long> closedByReason() {
    Map<CloseReason, Long> out = new EnumMap<>(CloseReason.class);
    closed.forEach(
        (r, n) -> {
          long v = n.sum();
          if (v > 0) {
            out.put(r, v);
          }
        });
    return out;
  }

  /** Every metric in the Prometheus text exposition format (version 0.0.4). */
  public String scrape() {
    ByteArrayOutputStream out = new ByteArrayOutputStream(16 * 1024);
    try {
      PrometheusTextFormatWriter.create()
          .write(out, registry.scrape(), EscapingScheme.UNDERSCORE_ESCAPING);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  /** The content type of {@link #scrape()}'s text, for the HTTP response. */
  public static String contentType() {
    return PrometheusTextFormatWriter.CONTENT_TYPE;
  }

  /** Counters of one listener. */
  public static final class ListenerMetrics {
    private final String name;
    private final LongAdder accepted = new LongAdder();
    private final LongAdder active = new LongAdder();

    private ListenerMetrics(String name) {
      this.name = name;
    }

    public String name() {
      return name;
    }
  }

  private static final class RouteMetrics {
    final String route;
    final String mode;
    final LongAdder routed = new LongAdder();
    final LongAdder active = new LongAdder();
    final LongAdder fromClient = new LongAdder();
    final LongAdder fromBackend = new LongAdder();
    final LongAdder rateLimited = new LongAdder();
    final LongAdder concurrencyLimited = new LongAdder();

    RouteMetrics(String route, String mode) {
      this.route = route;
      this.mode = mode;
    }
  }
}
