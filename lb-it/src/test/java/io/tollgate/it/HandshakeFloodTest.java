package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.connection.CloseReason;
import io.tollgate.pki.CertificateAuthority;
import io.tollgate.pki.CertificateAuthority.KeyType;
import io.tollgate.testkit.TlsTestClient;
import io.tollgate.testkit.TlsTestServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A flood of handshakes on one route, through the handshake queue: every other route (offload and
 * passthrough) is still served, every flood handshake that stays completes, and flood clients that
 * leave while their handshake waits cost nothing more (no leak, counted as client-closed). How much
 * each tenant gets under the flood is measured by scripts/bench-fairness.sh, not here.
 */
class HandshakeFloodTest {
  private static final int FLOOD_THREADS = 8;
  private static final int FLOOD_HANDSHAKES_EACH = 10;

  @TempDir Path dir;
  private CertificateAuthority ca;

  /** Offload flood.test and calm.test, passthrough pass.test, each with its own backend. */
  private TlsTestServer flood;

  private TlsTestServer calm;
  private TlsTestServer pass;
  private TollgateFixture tollgate;

  @BeforeEach
  void start() throws Exception {
    ca = CertificateAuthority.create("Flood CA", KeyType.EC_P256);
    ca.writeCertificatePem(dir.resolve("ca.pem"));
    ca.issue(KeyType.EC_P256, "flood.test").writePem(dir, "flood");
    ca.issue(KeyType.EC_P256, "calm.test").writePem(dir, "calm");
    flood = TlsTestServer.startPlain(TlsTestServer.greet("flood"));
    calm = TlsTestServer.startPlain(TlsTestServer.greet("calm"));
    pass = TlsTestServer.start(ca.issue(KeyType.EC_P256, "pass.test"), TlsTestServer.greet("pass"));
    tollgate = TollgateFixture.startIn(dir, config(flood.port(), calm.port(), pass.port()));
  }

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : new AutoCloseable[] {tollgate, flood, calm, pass}) {
      if (c != null) {
        c.close();
      }
    }
  }

  private static String config(int floodPort, int calmPort, int passPort) {
    return String.format(
        """
        certificates { trusted-roots = "ca.pem" }
        routes = [
          { hosts = ["flood.test"], mode = offload, pool = flood,
            certificate { chain = "flood.pem", key = "flood.key" } }
          { hosts = ["calm.test"], mode = offload, pool = calm,
            certificate { chain = "calm.pem", key = "calm.key" } }
          { hosts = ["pass.test"], mode = passthrough, pool = pass }
        ]
        pools {
          flood { servers = ["127.0.0.1:%d"] }
          calm { servers = ["127.0.0.1:%d"] }
          pass { servers = ["127.0.0.1:%d"] }
        }
        """,
        floodPort, calmPort, passPort);
  }

  @Test
  void otherRoutesAreServedWhileOneRouteIsFloodedWithHandshakes() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(FLOOD_THREADS);
    AtomicBoolean stop = new AtomicBoolean();
    AtomicInteger floodServed = new AtomicInteger();
    List<Future<?>> flooders = new ArrayList<>();
    try {
      for (int t = 0; t < FLOOD_THREADS; t++) {
        flooders.add(
            pool.submit(
                () -> {
                  for (int i = 0; i < FLOOD_HANDSHAKES_EACH && !stop.get(); i++) {
                    assertThat(greeting(tollgate.port(), "flood.test")).isEqualTo("flood");
                    floodServed.incrementAndGet();
                  }
                  return null;
                }));
      }
      // While the flood runs: the calm tenants, one connection after another.
      for (int i = 0; i < 10; i++) {
        assertThat(greeting(tollgate.port(), "calm.test")).isEqualTo("calm");
        try (TlsTestClient.Connection c = TlsTestClient.connect(tollgate.port(), "pass.test", ca)) {
          assertThat(readLine(c.socket().getInputStream())).isEqualTo("pass");
        }
      }
      for (Future<?> f : flooders) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      stop.set(true);
      pool.shutdownNow();
    }
    assertThat(floodServed.get()).isEqualTo(FLOOD_THREADS * FLOOD_HANDSHAKES_EACH);
  }

  @Test
  void floodClientsThatLeaveWhileTheirHandshakeWaitsAreCountedAndLeaveNothingBehind()
      throws Exception {
    byte[] hello = JdkClientHello.forName("flood.test", List.of("http/1.1"));
    int leavers = 200;
    // A burst of hellos whose senders close (half of them with a reset) right after sending:
    // many are still queued when their client is gone.
    for (int i = 0; i < leavers; i++) {
      try (Socket s = new Socket(InetAddress.getLoopbackAddress(), tollgate.port())) {
        s.getOutputStream().write(hello);
        s.getOutputStream().flush();
        if (i % 2 == 0) {
          s.setSoLinger(true, 0);
        }
      }
    }
    TollgateFixture.await(
        () -> closed(tollgate) >= leavers,
        Duration.ofSeconds(20),
        () -> "closed " + closed(tollgate) + " of " + leavers);
    // Each ended as a client that left (before, during or after its server flight), never as
    // an internal error.
    PrometheusText m = PrometheusText.parse(tollgate.metrics().scrape());
    assertThat(m.value("tollgate_connections_closed_total", "reason", "internal_error"))
        .hasValue(0.0);
    // And the queue still serves: a fresh handshake on the same route and on another.
    assertThat(greeting(tollgate.port(), "flood.test")).isEqualTo("flood");
    assertThat(greeting(tollgate.port(), "calm.test")).isEqualTo("calm");
  }

  @Test
  void aClientThatResetsAfterTheServersFlightEndsAsAClientResetWithAFailedHandshake()
      throws Exception {
    // What a hello flood's every connection does (scripts/bench/hellorush.c): hello, the server's
    // first flight read, then a reset, while the handshake waits for the client's Finished.
    byte[] hello = JdkClientHello.forName("flood.test", List.of("http/1.1"));
    int resets = 20;
    for (int i = 0; i < resets; i++) {
      try (Socket s = new Socket(InetAddress.getLoopbackAddress(), tollgate.port())) {
        s.setSoTimeout(10_000);
        s.getOutputStream().write(hello);
        s.getOutputStream().flush();
        assertThat(s.getInputStream().read()).as("the server's first flight").isEqualTo(22);
        s.setSoLinger(true, 0);
      }
    }
    tollgate.awaitClosed(CloseReason.CLIENT_RESET, resets);
    PrometheusText m = PrometheusText.parse(tollgate.metrics().scrape());
    assertThat(closed(tollgate)).isEqualTo(resets);
    assertThat(
            m.value("tollgate_tls_handshake_failures_total", "mode", "offload", "reason", "closed"))
        .hasValue(resets);
    assertThat(greeting(tollgate.port(), "flood.test")).isEqualTo("flood");
  }

  private static double closed(TollgateFixture tollgate) {
    PrometheusText m = PrometheusText.parse(tollgate.metrics().scrape());
    return m.find("tollgate_connections_closed_total").stream()
        .mapToDouble(PrometheusText.Sample::value)
        .sum();
  }

  private String greeting(int port, String name) throws IOException {
    try (TlsTestClient.Connection c = TlsTestClient.connect(port, name, ca)) {
      return readLine(c.socket().getInputStream());
    }
  }

  private static String readLine(InputStream in) throws IOException {
    return new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII)).readLine();
  }
}
