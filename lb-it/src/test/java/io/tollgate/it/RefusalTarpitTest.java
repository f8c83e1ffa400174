package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tollgate.connection.CloseReason;
import io.tollgate.limits.RefusalTarpit;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tarpit of refused handshakes (issue 16, {@code limits.tarpit}) with real TLS clients over
 * loopback: a handshake refused by its route's admission is held, unread, for the delay, then gets
 * its internal_error alert; the bounds (per route and overall) close refusals at once when full; a
 * client that leaves while held frees its place at once; and one route's held refusals never change
 * another route's admission or places. Refusals are made by a route's {@code concurrent-handshakes
 * = 1} with one handshake held in progress by a raw ClientHello.
 */
@Timeout(120)
class RefusalTarpitTest {
  @TempDir Path dir;
  private TwoOffloadTenants tenants;
  private TollgateFixture tollgate;

  @BeforeEach
  void certificatesAndBackends() throws Exception {
    tenants = new TwoOffloadTenants(dir, "Tarpit CA");
  }

  @AfterEach
  void stop() throws IOException {
    if (tollgate != null) {
      tollgate.close();
    }
    tenants.close();
  }

  /** Config lines a subclass adds (another transport). */
  String extraConfig() {
    return "";
  }

  /** Offload routes a.test and b.test, each with concurrent-handshakes = 1, and this tarpit. */
  private void start(String tarpit) throws Exception {
    tollgate =
        TollgateFixture.startIn(
            dir,
            """
            certificates { trusted-roots = "ca.pem" }
            timeouts { handshake = 60s }
            limits.tarpit { %s }
            """
                    .formatted(tarpit)
                + extraConfig()
                + "\n"
                + tenants.routes("concurrent-handshakes = 1", "concurrent-handshakes = 1"));
  }

  private RefusalTarpit tarpit() {
    return tollgate.tollgate().limits().tarpit();
  }

  /** A full handshake with the JDK client and the backend's greeting through it. */
  private String greeting(String name) throws IOException {
    return tenants.greeting(tollgate.port(), name);
  }

  /** A raw connection that sends a real ClientHello for {@code name} and reads nothing yet. */
  private Socket hello(String name) throws Exception {
    return tenants.hello(tollgate.port(), name);
  }

  /** Takes {@code name}'s one handshake slot: a hello whose server flight is read, then quiet. */
  private void holdHandshake(String name) throws Exception {
    tenants.holdHandshake(tollgate.port(), name);
  }

  private void awaitHeld(String route, int n) throws InterruptedException {
    TollgateFixture.await(
        () -> tarpit().held(route) == n,
        Duration.ofSeconds(10),
        () -> route + " held " + tarpit().held(route) + ", expected " + n);
  }

  @Test
  void aRefusedHandshakeIsHeldForTheDelayThenGetsItsAlert() throws Exception {
    start("delay = 2s, max-held = 100, max-held-per-route = 10");
    holdHandshake("a.test");
    long start = System.nanoTime();
    assertThatThrownBy(() -> greeting("a.test"))
        .isInstanceOf(UncheckedIOException.class)
        .hasMessageContaining("internal_error");
    // The alert cannot come before the delay (a lower bound: the machine may only add to it).
    assertThat(Duration.ofNanos(System.nanoTime() - start))
        .isGreaterThanOrEqualTo(Duration.ofSeconds(2));
    tollgate.awaitClosed(CloseReason.HANDSHAKE_CONCURRENCY_LIMITED, 1);
    awaitHeld("a.test", 0);
    PrometheusText m = PrometheusText.parse(tollgate.metrics().scrape());
    assertThat(m.value("tollgate_tarpit_delayed_total")).hasValue(1.0);
    assertThat(m.value("tollgate_tarpit_full_total")).hasValue(0.0);
    // A route with nothing held is forgotten: ten thousand tenants keep only the flooded ones.
    assertThat(m.value("tollgate_tarpit_held", "route", "a.test")).isEmpty();
    assertThat(tarpit().held()).isZero();
    // The tenant's handshakes are served again once its slot is free; b.test all along.
    assertThat(greeting("b.test")).isEqualTo("tenant b");
  }

  @Test
  void aHeldClientThatLeavesFreesItsPlaceAtOnceWithTheRefusalsReason() throws Exception {
    start("delay = 60s, max-held = 100, max-held-per-route = 10");
    holdHandshake("a.test");
    Socket refused = hello("a.test");
    awaitHeld("a.test", 1);
    assertThat(
            PrometheusText.parse(tollgate.metrics().scrape())
                .value("tollgate_tarpit_held", "route", "a.test"))
        .hasValue(1.0);
    refused.setSoLinger(true, 0);
    refused.close();
    awaitHeld("a.test", 0);
    tollgate.awaitClosed(CloseReason.HANDSHAKE_CONCURRENCY_LIMITED, 1);
    assertThat(tollgate.metrics().closedCount(CloseReason.CLIENT_RESET)).isZero();
    // A client that half-closes (FIN) while held leaves as well.
    Socket halfClosed = hello("a.test");
    awaitHeld("a.test", 1);
    halfClosed.shutdownOutput();
    awaitHeld("a.test", 0);
    tollgate.awaitClosed(CloseReason.HANDSHAKE_CONCURRENCY_LIMITED, 2);
  }

  @Test
  void pastARoutesBoundRefusalsCloseAtOnceAndAnotherRouteIsUntouched() throws Exception {
    // A delay far beyond the test: an alert read here was sent at once, not after it.
    start("delay = 60s, max-held = 100, max-held-per-route = 2");
    holdHandshake("a.test");
    hello("a.test");
    hello("a.test");
    awaitHeld("a.test", 2);
    // a.test's bound is full: its next refusal gets the alert at once.
    Socket third = hello("a.test");
    assertThat(third.getInputStream().read()).as("an alert record").isEqualTo(21);
    tollgate.awaitClosed(CloseReason.HANDSHAKE_CONCURRENCY_LIMITED, 1);
    assertThat(tarpit().held("a.test")).isEqualTo(2);

    // b.test: its own slot and its own places, whatever a.test holds.
    assertThat(greeting("b.test")).isEqualTo("tenant b");
    holdHandshake("b.test");
    hello("b.test");
    hello("b.test");
    awaitHeld("b.test", 2);
    Socket bThird = hello("b.test");
    assertThat(bThird.getInputStream().read()).as("an alert record").isEqualTo(21);
    assertThat(tarpit().held("a.test")).isEqualTo(2);
    assertThat(tarpit().held()).isEqualTo(4);
    PrometheusText m = PrometheusText.parse(tollgate.metrics().scrape());
    assertThat(m.value("tollgate_tarpit_delayed_total")).hasValue(4.0);
    assertThat(m.value("tollgate_tarpit_full_total")).hasValue(2.0);
    assertThat(
            tollgate
                .metrics()
                .handshakesRefused("b.test", CloseReason.HANDSHAKE_CONCURRENCY_LIMITED))
        .isEqualTo(3);
  }

  @Test
  void theOverallBoundIsSharedButNeverRefusesAnAdmittedHandshake() throws Exception {
    start("delay = 60s, max-held = 1, max-held-per-route = 10");
    holdHandshake("a.test");
    hello("a.test");
    awaitHeld("a.test", 1);
    // The one place overall is a.test's: b.test's refusal closes at once ...
    holdHandshake("b.test");
    Socket bRefused = hello("b.test");
    assertThat(bRefused.getInputStream().read()).as("an alert record").isEqualTo(21);
    assertThat(tarpit().held("b.test")).isZero();
    // ... but b.test's admission is its own: once its slot is free, its handshakes are served.
    tenants.sockets.get(2).setSoLinger(true, 0);
    tenants.sockets.get(2).close();
    TollgateFixture.await(
        () -> tollgate.tollgate().limits().handshakes().inProgress("b.test") == 0,
        Duration.ofSeconds(10));
    assertThat(greeting("b.test")).isEqualTo("tenant b");
  }

  @Test
  void aZeroDelayRefusesAtOnce() throws Exception {
    start("delay = 0, max-held = 100, max-held-per-route = 10");
    holdHandshake("a.test");
    Socket refused = hello("a.test");
    assertThat(refused.getInputStream().read()).as("an alert record").isEqualTo(21);
    assertThat(tarpit().held()).isZero();
    assertThat(
            PrometheusText.parse(tollgate.metrics().scrape())
                .value("tollgate_tarpit_delayed_total"))
        .hasValue(0.0);
  }
}
