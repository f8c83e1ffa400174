package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tollgate.connection.CloseReason;
import io.tollgate.limits.HandshakeAdmission;
import io.tollgate.testkit.TlsTestClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Per-route handshake admission (issue 16) with real TLS clients over loopback: {@code
 * handshakes-per-second} and {@code concurrent-handshakes} refuse a route's handshakes beyond them
 * with an internal_error alert, their own close reason, the per-reason and per-route metrics and an
 * access log line, and never refuse another route's. Handshakes are held in progress by raw sockets
 * that send a real ClientHello, read the server's flight and never finish.
 */
@Timeout(120)
class HandshakeLimitsTest {
  @TempDir Path dir;
  private TwoOffloadTenants tenants;
  private TollgateFixture tollgate;

  @BeforeEach
  void certificatesAndBackends() throws Exception {
    tenants = new TwoOffloadTenants(dir, "Handshake Limits CA");
  }

  @AfterEach
  void stop() throws IOException {
    if (tollgate != null) {
      tollgate.close();
    }
    tenants.close();
  }

  /** Offload routes a.test and b.test on one listener, with these {@code limits} each. */
  private void start(String aLimits, String bLimits) throws Exception {
    tollgate =
        TollgateFixture.startIn(
            dir,
            """
            certificates { trusted-roots = "ca.pem" }
            timeouts { handshake = 60s }
            access-log { path = "access.log" }
            """
                + tenants.routes(aLimits, bLimits));
  }

  private HandshakeAdmission admission() {
    return tollgate.tollgate().limits().handshakes();
  }

  /** A full handshake with the JDK client and the backend's greeting through it. */
  private String greeting(String name) throws IOException {
    return tenants.greeting(tollgate.port(), name);
  }

  /** A handshake refused with the alert a refusal sends (the JDK client's words for it). */
  private void assertRefused(String name) {
    assertThatThrownBy(() -> greeting(name))
        .isInstanceOf(UncheckedIOException.class)
        .hasMessageContaining("internal_error");
  }

  /** A handshake for {@code name} that stays in progress (see {@link TwoOffloadTenants}). */
  private Socket holdHandshake(String name) throws Exception {
    return tenants.holdHandshake(tollgate.port(), name);
  }

  private List<Map<String, Object>> accessLog() throws IOException {
    return AccessLogFile.lines(dir.resolve("access.log"));
  }

  private long loggedWith(String reason) throws IOException {
    return accessLog().stream().filter(l -> reason.equals(l.get("reason"))).count();
  }

  @Test
  void theRateRefusesHandshakesBeyondItWithItsReasonMetricAndLogLine() throws Exception {
    start("handshakes-per-second = 1, handshakes-burst = 3", "");
    // The burst passes, then about one a second: at most 50 attempts find the first refusal
    // unless they took 47 s.
    int served = 0;
    boolean refused = false;
    for (int i = 0; i < 50 && !refused; i++) {
      try {
        assertThat(greeting("a.test")).isEqualTo("tenant a");
        served++;
      } catch (UncheckedIOException e) {
        assertThat(e).hasMessageContaining("internal_error");
        refused = true;
      }
    }
    assertThat(refused).as("a handshake beyond the rate was refused").isTrue();
    assertThat(served).as("the burst passed first").isGreaterThanOrEqualTo(3);
    tollgate.awaitClosed(CloseReason.HANDSHAKE_RATE_LIMITED, 1);
    assertThat(tollgate.metrics().handshakesRefused("a.test", CloseReason.HANDSHAKE_RATE_LIMITED))
        .isEqualTo(1);
    PrometheusText m = PrometheusText.parse(tollgate.metrics().scrape());
    assertThat(
            m.value(
                "tollgate_route_handshakes_refused_total",
                "route",
                "a.test",
                "reason",
                "handshake_rate_limited"))
        .hasValue(1.0);
    assertThat(m.value("tollgate_connections_closed_total", "reason", "handshake_rate_limited"))
        .hasValue(1.0);
    TollgateFixture.await(
        () -> {
          try {
            return loggedWith("handshake_rate_limited") == 1;
          } catch (IOException e) {
            return false;
          }
        },
        Duration.ofSeconds(10));
    Map<String, Object> line =
        accessLog().stream()
            .filter(l -> "handshake_rate_limited".equals(l.get("reason")))
            .findFirst()
            .orElseThrow();
    assertThat(line.get("route")).isEqualTo("a.test");
    assertThat(line.get("sni")).isEqualTo("a.test");
    assertThat((String) line.get("detail")).contains("handshakes-per-second = 1");
    // The other route on the listener has no limit and is not touched by a.test's.
    for (int i = 0; i < 5; i++) {
      assertThat(greeting("b.test")).isEqualTo("tenant b");
    }
  }

  @Test
  void theCapRefusesTheNextHandshakeUntilOneInProgressEnds() throws Exception {
    start("concurrent-handshakes = 2", "");
    holdHandshake("a.test");
    holdHandshake("a.test");
    assertThat(admission().inProgress("a.test")).isEqualTo(2);
    assertThat(
            PrometheusText.parse(tollgate.metrics().scrape())
                .value("tollgate_route_handshakes_in_progress", "route", "a.test"))
        .hasValue(2.0);

    assertRefused("a.test");
    tollgate.awaitClosed(CloseReason.HANDSHAKE_CONCURRENCY_LIMITED, 1);
    assertThat(
            tollgate
                .metrics()
                .handshakesRefused("a.test", CloseReason.HANDSHAKE_CONCURRENCY_LIMITED))
        .isEqualTo(1);
    assertThat(greeting("b.test")).as("another route meanwhile").isEqualTo("tenant b");

    // The held clients reset their connections in the middle of their handshakes: each gives
    // its slot back once, and a.test takes new handshakes again. (One that only sends FIN gives
    // it back too, see aHandshakeThatTimesOutGivesItsSlotBack.)
    for (Socket s : tenants.sockets) {
      s.setSoLinger(true, 0);
      s.close();
    }
    TollgateFixture.await(
        () -> admission().inProgress("a.test") == 0,
        Duration.ofSeconds(10),
        () ->
            "in progress "
                + admission().inProgress("a.test")
                + ", open "
                + tollgate.metrics().activeCount()
                + ", closed "
                + tollgate.metrics().closedByReason());
    assertThat(greeting("a.test")).isEqualTo("tenant a");

    // A handshake that completed is no longer counted, though its connection stays open.
    try (TlsTestClient.Connection one =
            TlsTestClient.connect(tollgate.port(), "a.test", tenants.ca);
        TlsTestClient.Connection two =
            TlsTestClient.connect(tollgate.port(), "a.test", tenants.ca);
        TlsTestClient.Connection three =
            TlsTestClient.connect(tollgate.port(), "a.test", tenants.ca)) {
      TollgateFixture.await(() -> admission().inProgress("a.test") == 0, Duration.ofSeconds(10));
    }
    assertThat(tollgate.metrics().closedCount(CloseReason.HANDSHAKE_CONCURRENCY_LIMITED))
        .isEqualTo(1);
    assertThat(admission().inProgress("a.test")).isZero();
  }

  @Test
  void aHandshakeThatTimesOutGivesItsSlotBack() throws Exception {
    tollgate =
        TollgateFixture.startIn(
            dir,
            String.format(
                """
                certificates { trusted-roots = "ca.pem" }
                timeouts { handshake = 1s }
                routes = [
                  { hosts = ["a.test"], mode = offload, pool = a,
                    certificate { chain = "a.pem", key = "a.key" },
                    limits { concurrent-handshakes = 1 } }
                ]
                pools { a { servers = ["127.0.0.1:%d"] } }
                """,
                tenants.backendA.port()));
    // A client that goes quiet holds the one slot until its handshake times out, then gives it
    // back; one that half-closes after its hello can no longer finish, and gives it back as soon
    // as its FIN is read (ended as closed by the client, not at the timeout).
    Socket quiet = holdHandshake("a.test");
    tollgate.awaitClosed(CloseReason.HANDSHAKE_TIMEOUT, 1);
    TollgateFixture.await(() -> admission().inProgress("a.test") == 0, Duration.ofSeconds(10));
    Socket halfClosed = holdHandshake("a.test");
    halfClosed.shutdownOutput();
    tollgate.awaitClosed(CloseReason.CLIENT_CLOSED, 1);
    TollgateFixture.await(() -> admission().inProgress("a.test") == 0, Duration.ofSeconds(10));
    assertThat(tollgate.metrics().closedCount(CloseReason.HANDSHAKE_TIMEOUT)).isEqualTo(1);
    assertThat(greeting("a.test")).isEqualTo("tenant a");
    assertThat(tollgate.metrics().closedCount(CloseReason.HANDSHAKE_CONCURRENCY_LIMITED)).isZero();
  }

  @Test
  void aFloodedRouteAtItsLimitsNeverRefusesAnotherRoutesHandshakes() throws Exception {
    // Both tenants are limited, each by its own state. b.test's handshakes come one at a time,
    // so its own cap of 1 never refuses them; counted together with a.test's, every one would be.
    start(
        "handshakes-per-second = 2, handshakes-burst = 2, concurrent-handshakes = 2",
        "handshakes-per-second = 1000, concurrent-handshakes = 1");
    // a.test at its cap for the whole flood: two handshakes held in progress.
    holdHandshake("a.test");
    holdHandshake("a.test");
    int threads = 4;
    int floodEach = 40;
    byte[] hello = JdkClientHello.forName("a.test", List.of("http/1.1"));
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    AtomicInteger floodSent = new AtomicInteger();
    List<Future<?>> flooders = new ArrayList<>();
    try {
      for (int t = 0; t < threads; t++) {
        flooders.add(
            pool.submit(
                () -> {
                  for (int i = 0; i < floodEach; i++) {
                    // The cheap flood: a hello, then gone (half with a reset).
                    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), tollgate.port())) {
                      s.getOutputStream().write(hello);
                      s.getOutputStream().flush();
                      if (i % 2 == 0) {
                        s.setSoLinger(true, 0);
                      }
                    }
                    floodSent.incrementAndGet();
                  }
                  return null;
                }));
      }
      // Meanwhile tenant b's full handshakes, one after another: every one is served.
      for (int i = 0; i < 20; i++) {
        assertThat(greeting("b.test")).as("tenant b, handshake %d", i).isEqualTo("tenant b");
      }
      for (Future<?> f : flooders) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(floodSent.get()).isEqualTo(threads * floodEach);
    // Every flood connection has ended (the two held ones are still open).
    TollgateFixture.await(
        () -> tollgate.metrics().activeCount() == 2,
        Duration.ofSeconds(20),
        () -> "connections still open: " + tollgate.metrics().activeCount());
    long refusedA =
        tollgate.metrics().handshakesRefused("a.test", CloseReason.HANDSHAKE_RATE_LIMITED)
            + tollgate
                .metrics()
                .handshakesRefused("a.test", CloseReason.HANDSHAKE_CONCURRENCY_LIMITED);
    assertThat(refusedA).as("a.test's flood refused").isPositive();
    assertThat(
            tollgate.metrics().closedCount(CloseReason.HANDSHAKE_RATE_LIMITED)
                + tollgate.metrics().closedCount(CloseReason.HANDSHAKE_CONCURRENCY_LIMITED))
        .as("every refusal is a.test's")
        .isEqualTo(refusedA);
    assertThat(tollgate.metrics().handshakesRefused("b.test", CloseReason.HANDSHAKE_RATE_LIMITED))
        .isZero();
    assertThat(
            tollgate
                .metrics()
                .handshakesRefused("b.test", CloseReason.HANDSHAKE_CONCURRENCY_LIMITED))
        .isZero();
    assertThat(admission().inProgress("a.test")).as("the two held handshakes").isEqualTo(2);
    assertThat(admission().inProgress("b.test")).isZero();
    // Once a.test's held handshakes leave and its bucket has refilled, it is served again.
    for (Socket s : tenants.sockets) {
      s.setSoLinger(true, 0);
      s.close();
    }
    TollgateFixture.await(() -> admission().inProgress("a.test") == 0, Duration.ofSeconds(10));
    TollgateFixture.await(
        () -> {
          try {
            return "tenant a".equals(greeting("a.test"));
          } catch (UncheckedIOException | IOException e) {
            return false;
          }
        },
        Duration.ofSeconds(10));
  }
}
