package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tollgate.config.ConfigException;
import io.tollgate.config.ConfigLoader;
import io.tollgate.connection.CloseReason;
import io.tollgate.health.ServerState;
import io.tollgate.pki.CertificateAuthority;
import io.tollgate.pki.CertificateAuthority.KeyType;
import io.tollgate.pki.IssuedCertificate;
import io.tollgate.pool.Backend;
import io.tollgate.pool.Pool;
import io.tollgate.testkit.FreePorts;
import io.tollgate.testkit.TlsTestClient;
import io.tollgate.testkit.TlsTestServer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Health checks and balancing end to end: real TLS backends over loopback behind a real Tollgate,
 * clients connecting through it. Intervals are short (100 ms) so state changes happen within a
 * test; the bounds asserted are the documented ones plus scheduling slack.
 */
class HealthAndBalancingTest {
  private static final long SLACK_MS = 1000;
  private static final String CHECK =
      "health-check { type = tcp, interval = 100ms, timeout = 200ms, rise = 2, fall = 2,"
          + " jitter = 0 }";
  private static CertificateAuthority ca;
  private static IssuedCertificate cert;
  private final List<TlsTestServer> servers = new ArrayList<>();
  private TollgateFixture tollgate;

  @BeforeAll
  static void certificates() {
    ca = CertificateAuthority.create("Tollgate IT CA", KeyType.EC_P256);
    cert = ca.issue(KeyType.EC_P256, "app.test");
  }

  @AfterEach
  void stop() {
    if (tollgate != null) {
      tollgate.close();
    }
    servers.forEach(TlsTestServer::close);
  }

  private TlsTestServer backend(String name) {
    return backend(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), name);
  }

  private TlsTestServer backend(InetSocketAddress bind, String name) {
    TlsTestServer s = TlsTestServer.start(bind, cert, TlsTestServer.greet(name));
    servers.add(s);
    return s;
  }

  /** Connects through Tollgate and returns the first line the backend sends. */
  private String greeting() throws Exception {
    try (TlsTestClient.Connection c = TlsTestClient.connect(tollgate.port(), "app.test", ca)) {
      return new BufferedReader(
              new InputStreamReader(c.socket().getInputStream(), StandardCharsets.UTF_8))
          .readLine();
    }
  }

  private Map<String, Integer> greetings(int n) throws Exception {
    Map<String, Integer> counts = new HashMap<>();
    for (int i = 0; i < n; i++) {
      counts.merge(greeting(), 1, Integer::sum);
    }
    return counts;
  }

  private ServerState state(int port) {
    Pool pool = tollgate.tollgate().snapshot().pools().get("app");
    return pool.servers().stream()
        .filter(b -> b.address().getPort() == port)
        .map(Backend::state)
        .findFirst()
        .orElseThrow();
  }

  private static long awaitState(ServerState s, boolean up, long maxMillis)
      throws InterruptedException {
    long start = System.nanoTime();
    TollgateFixture.await(
        () -> s.isUp() == up,
        Duration.ofMillis(maxMillis),
        () -> s + " (" + s.reason() + ") is " + (up ? "down" : "up"));
    assertThat(s.isUp()).as("%s (%s) after %d ms", s, s.reason(), maxMillis).isEqualTo(up);
    return (System.nanoTime() - start) / 1_000_000;
  }

  private String routes() {
    return "routes = [ { hosts = [\"app.test\"], pool = app } ]\n";
  }

  @Test
  void aKilledServerIsOutWithinFallTimesIntervalPlusTimeoutAndBackAfterRise() throws Exception {
    TlsTestServer a = backend("a");
    TlsTestServer b = backend("b");
    tollgate =
        TollgateFixture.start(
            routes()
                + String.format(
                    "pools.app { servers = [\"127.0.0.1:%d\", \"127.0.0.1:%d\"], %s }",
                    a.port(), b.port(), CHECK));
    awaitState(state(a.port()), true, 3000);
    awaitState(state(b.port()), true, 3000);
    assertThat(greetings(4)).containsOnlyKeys("a", "b");

    InetSocketAddress aAddress = a.address();
    a.close();
    // fall x interval + timeout = 2 x 100 + 200 ms
    awaitState(state(a.port()), false, 400 + SLACK_MS);
    assertThat(state(a.port()).reason()).startsWith("connect refused");
    assertThat(greetings(10)).containsOnlyKeys("b");
    assertThat(tollgate.metrics().closedCount(CloseReason.CONNECT_FAILED)).isZero();

    TlsTestServer again = backend(aAddress, "a-again");
    // down-interval until the first success, then rise - 1 fast intervals
    awaitState(state(again.port()), true, 200 + 50 + 400 + SLACK_MS);
    assertThat(greetings(4)).containsOnlyKeys("a-again", "b");
  }

  @Test
  void connectRefusedEjectsTheServerPassivelyWithoutAnyProbe() throws Exception {
    TlsTestServer live = backend("live");
    int dead = FreePorts.next();
    tollgate =
        TollgateFixture.start(
            routes()
                + String.format(
                    """
        pools.app {
          servers = ["127.0.0.1:%d", "127.0.0.1:%d"]
          connect-attempts = 2
          passive-ejection { failures = 1, backoff = 1m }
        }
        """,
                    dead, live.port()));

    // Round-robin sends one of the first two connections to the dead server; it fails over.
    assertThat(greetings(2)).containsOnlyKeys("live");
    ServerState ejected = state(dead);
    assertThat(ejected.isUp()).isFalse();
    assertThat(ejected.reason())
        .isEqualTo("passive ejection: 1 connect failure(s) in a row, last: connect refused");
    int acceptedBefore = live.acceptedConnections();
    assertThat(greetings(6)).containsOnlyKeys("live");
    assertThat(live.acceptedConnections() - acceptedBefore).isEqualTo(6);
  }

  @Test
  void aServerThatResetsBeforeAnsweringIsEjectedPassively() throws Exception {
    // Accepts, reads what Tollgate relays (the ClientHello), then resets without a byte back.
    TlsTestServer resetting =
        TlsTestServer.startPlain(
            socket -> {
              socket.getInputStream().read();
              socket.setSoLinger(true, 0);
              socket.close();
            });
    servers.add(resetting);
    TlsTestServer live = backend("live");
    tollgate =
        TollgateFixture.start(
            routes()
                + String.format(
                    """
        pools.app {
          servers = ["127.0.0.1:%d", "127.0.0.1:%d"]
          passive-ejection { failures = 2, backoff = 1m }
        }
        """,
                    resetting.port(), live.port()));

    ServerState bad = state(resetting.port());
    int failed = 0;
    for (int i = 0; i < 8 && bad.isUp(); i++) {
      try {
        assertThat(greeting()).isEqualTo("live");
      } catch (java.io.UncheckedIOException | java.io.IOException e) {
        failed++; // this one went to the resetting server
      }
    }
    assertThat(bad.isUp()).as("%s", bad.reason()).isFalse();
    assertThat(failed).isEqualTo(2);
    assertThat(bad.reason())
        .startsWith("passive ejection: 2 connect failure(s) in a row")
        .contains("reset before the first byte");
    assertThat(greetings(4)).containsOnlyKeys("live");
  }

  @Test
  void allServersDownRejectsWithNoHealthyBackend() throws Exception {
    // Hangs up on every probe before answering: each HTTP check fails, and each is counted.
    TlsTestServer failing = TlsTestServer.startPlain(socket -> {});
    servers.add(failing);
    tollgate =
        TollgateFixture.start(
            routes()
                + String.format(
                    "pools.app { servers = [\"127.0.0.1:%d\"], %s }",
                    failing.port(), CHECK.replace("type = tcp", "type = http")));
    ServerState s = state(failing.port());
    // A probe is sent only after the one before it was judged: three accepted, two failures seen.
    TollgateFixture.await(() -> failing.acceptedConnections() >= 3, Duration.ofSeconds(10));
    assertThat(s.isUp()).isFalse(); // initial = down and never a success

    assertThatThrownBy(this::greeting).hasMessageContaining("internal_error");
    tollgate.awaitClosed(CloseReason.NO_HEALTHY_BACKEND, 1);
  }

  @Test
  void aFullPoolRefusesWithPoolFull() throws Exception {
    TlsTestServer echo = TlsTestServer.start(cert, TlsTestServer.echo());
    servers.add(echo);
    tollgate =
        TollgateFixture.start(
            routes()
                + String.format(
                    "pools.app { servers = [{ address = \"127.0.0.1:%d\", max-connections = 1 }] }",
                    echo.port()));

    try (TlsTestClient.Connection held = TlsTestClient.connect(tollgate.port(), "app.test", ca)) {
      assertThatThrownBy(this::greeting).hasMessageContaining("internal_error");
      tollgate.awaitClosed(CloseReason.POOL_FULL, 1);
      assertThat(state(echo.port()).activeConnections()).isEqualTo(1);
    }
    TollgateFixture.await(() -> state(echo.port()).activeConnections() == 0, Duration.ofSeconds(5));
    try (TlsTestClient.Connection again = TlsTestClient.connect(tollgate.port(), "app.test", ca)) {
      assertThat(again.peerDnsNames()).contains("app.test");
    }
  }

  @Test
  void healthAndDrainSurviveAReload() throws Exception {
    TlsTestServer a = backend("a");
    TlsTestServer b = backend("b");
    int dead = FreePorts.next();
    String pool =
        "pools.app { servers = [\"127.0.0.1:%d\", \"127.0.0.1:%d\", \"127.0.0.1:%d\"]," + " %s }";
    tollgate =
        TollgateFixture.start(routes() + String.format(pool, a.port(), b.port(), dead, CHECK));
    awaitState(state(a.port()), true, 3000);
    awaitState(state(b.port()), true, 3000);
    ServerState stateA = state(a.port());
    ServerState stateDead = state(dead);
    assertThat(tollgate.tollgate().drain("app", a.address(), true)).isTrue();
    assertThat(greetings(4)).containsOnlyKeys("b");

    TlsTestServer c = backend("c");
    tollgate
        .tollgate()
        .reload(
            ConfigLoader.parse(
                "tollgate {\n"
                    + "listeners = [ { name = main, address = \"127.0.0.1:0\" } ]\n"
                    + routes()
                    + String.format(
                        pool.replace("]", ", \"127.0.0.1:%d\"]"),
                        a.port(),
                        b.port(),
                        dead,
                        c.port(),
                        CHECK)
                    + "\n}",
                "reload.conf"));

    assertThat(state(a.port())).isSameAs(stateA);
    assertThat(stateA.isDraining()).isTrue();
    assertThat(state(dead)).isSameAs(stateDead);
    assertThat(stateDead.isUp()).isFalse();
    awaitState(state(c.port()), true, 3000);
    assertThat(greetings(6)).containsOnlyKeys("b", "c");

    tollgate.tollgate().drain("app", a.address(), false);
    assertThat(greetings(6)).containsKey("a");
  }

  @Test
  void aReloadRejectedAtBindingKeepsProbingTheServersItWouldHaveDropped() throws Exception {
    TlsTestServer a = backend("a");
    TlsTestServer b = backend("b");
    String pool = "pools.app { servers = [%s], " + CHECK + " }";
    tollgate =
        TollgateFixture.start(
            routes()
                + String.format(
                    pool, "\"127.0.0.1:" + a.port() + "\", \"127.0.0.1:" + b.port() + "\""));
    awaitState(state(a.port()), true, 3000);
    awaitState(state(b.port()), true, 3000);
    ServerState stateB = state(b.port());

    // Drops b and adds a listener on a port that is taken: rejected when binding.
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      String rejected =
          "tollgate {\nlisteners = [ { name = main, address = \"127.0.0.1:0\" },"
              + " { name = extra, address = \"127.0.0.1:"
              + taken.getLocalPort()
              + "\" } ]\n"
              + routes()
              + String.format(pool, "\"127.0.0.1:" + a.port() + "\"")
              + "\n}";
      assertThatThrownBy(
              () -> tollgate.tollgate().reload(ConfigLoader.parse(rejected, "rejected.conf")))
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining("cannot bind");
    }
    assertThat(state(b.port())).isSameAs(stateB);

    // b is still probed in the config in force: its going down and coming back are seen.
    InetSocketAddress bAddress = b.address();
    b.close();
    awaitState(stateB, false, 400 + SLACK_MS);
    assertThat(stateB.reason()).startsWith("connect refused");
    assertThat(greetings(4)).containsOnlyKeys("a");
    TlsTestServer again = backend(bAddress, "b-again");
    awaitState(stateB, true, 200 + 50 + 400 + SLACK_MS);
    assertThat(greetings(4)).containsOnlyKeys("a", "b-again");
    assertThat(again.acceptedConnections()).isPositive();
  }
}
