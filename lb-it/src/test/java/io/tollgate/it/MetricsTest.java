package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tollgate.config.ConfigException;
import io.tollgate.config.ConfigLoader;
import io.tollgate.connection.CloseReason;
import io.tollgate.pki.CertificateAuthority;
import io.tollgate.pki.CertificateAuthority.KeyType;
import io.tollgate.testkit.TlsTestClient;
import io.tollgate.testkit.TlsTestServer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code Metrics.scrape()} after real traffic: the text parses as Prometheus exposition format and
 * holds the counters, histograms and gauges the operations issue lists, with plausible values.
 */
@Timeout(120)
class MetricsTest {
  @TempDir static Path dir;
  private static CertificateAuthority ca;
  private static TlsTestServer passBackend;
  private static TlsTestServer shopBackend;
  private static TollgateFixture tollgate;
  private static String body;

  @BeforeAll
  static void start() throws Exception {
    ca = CertificateAuthority.create("Tollgate Metrics IT CA", KeyType.EC_P256);
    ca.writeCertificatePem(dir.resolve("ca.pem"));
    ca.issue(KeyType.EC_P256, "shop.test").writePem(dir, "shop");
    passBackend =
        TlsTestServer.start(ca.issue(KeyType.EC_P256, "pass.test"), TlsTestServer.greet("pass"));
    shopBackend = TlsTestServer.startPlain(TlsTestServer.greet("shop"));
    body =
        String.format(
            """
        certificates { trusted-roots = "ca.pem" }
        routes = [
          { hosts = ["pass.test"], mode = passthrough, pool = pass }
          { hosts = ["shop.test"], mode = offload, pool = shop,
            certificate { chain = "shop.pem", key = "shop.key" } }
        ]
        pools {
          pass { servers = ["127.0.0.1:%d"] }
          shop { servers = ["127.0.0.1:%d"] }
        }
        """,
            passBackend.port(), shopBackend.port());
    tollgate = TollgateFixture.startIn(dir, body);
  }

  @AfterAll
  static void stop() {
    if (tollgate != null) {
      tollgate.close();
    }
    passBackend.close();
    shopBackend.close();
  }

  @Test
  void scrapeHasCountersHistogramsAndGaugesAfterTraffic() throws Exception {
    PrometheusText before = PrometheusText.parse(tollgate.metrics().scrape());
    for (String name : new String[] {"pass.test", "shop.test", "shop.test"}) {
      try (TlsTestClient.Connection c = TlsTestClient.connect(tollgate.port(), name, ca)) {
        assertThat(firstLine(c.socket())).isNotEmpty();
      }
    }
    TlsTestClient.Handshake refused =
        TlsTestClient.to(tollgate.port()).trust(ca.trustManagers()).sni("nobody.test").handshake();
    assertThat(refused.success()).isFalse();
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), tollgate.port())) {
      OutputStream out = s.getOutputStream();
      out.write("GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      assertThat(s.getInputStream().read()).isEqualTo(-1);
    }
    tollgate.awaitClosed(CloseReason.NO_ROUTE, 1);
    tollgate.awaitClosed(CloseReason.NOT_TLS, 1);
    TollgateFixture.await(() -> tollgate.metrics().activeCount() == 0, Duration.ofSeconds(10));

    String text = tollgate.metrics().scrape();
    PrometheusText m = PrometheusText.parse(text);

    assertThat(m.types)
        .containsEntry("tollgate_connections_closed_total", "counter")
        .containsEntry("tollgate_client_hello_size_bytes", "histogram")
        .containsEntry("tollgate_tls_handshake_duration_seconds", "histogram")
        .containsEntry("tollgate_backend_connect_duration_seconds", "histogram")
        .containsEntry("tollgate_certificate_expiry_seconds", "gauge")
        .containsEntry("tollgate_server_up", "gauge");
    assertThat(value(m, "tollgate_connections_accepted_total", "listener", "main"))
        .isEqualTo(tollgate.metrics().acceptedCount());
    assertThat(value(m, "tollgate_connections_active", "listener", "main")).isZero();
    assertThat(value(m, "tollgate_connections_closed_total", "reason", "no_route")).isEqualTo(1);
    assertThat(value(m, "tollgate_connections_closed_total", "reason", "not_tls")).isEqualTo(1);
    // Every reason is listed, zero or not, so dashboards and alerts never miss a series.
    for (CloseReason r : CloseReason.values()) {
      assertThat(m.value("tollgate_connections_closed_total", "reason", r.label())).isPresent();
    }
    assertThat(
            delta(
                before,
                m,
                "tollgate_route_connections_total",
                "route",
                "pass.test",
                "mode",
                "passthrough"))
        .isEqualTo(1);
    assertThat(
            delta(
                before,
                m,
                "tollgate_route_connections_total",
                "route",
                "shop.test",
                "mode",
                "offload"))
        .isEqualTo(2);
    assertThat(
            value(
                m, "tollgate_route_bytes_total", "route", "shop.test", "direction", "from_backend"))
        .isPositive();
    assertThat(value(m, "tollgate_bytes_total", "direction", "from_client")).isPositive();

    // Histograms: hellos parsed (4: pass, 2 x shop, nobody), offload handshakes, connects.
    assertThat(delta(before, m, "tollgate_client_hello_size_bytes_count")).isEqualTo(4);
    assertThat(
            value(m, "tollgate_client_hello_size_bytes_sum")
                / value(m, "tollgate_client_hello_size_bytes_count"))
        .isBetween(100.0, 16384.0);
    assertThat(m.find("tollgate_client_hello_size_bytes_bucket")).hasSizeGreaterThan(5);
    assertThat(value(m, "tollgate_client_hello_size_bytes_bucket", "le", "+Inf"))
        .isEqualTo(value(m, "tollgate_client_hello_size_bytes_count"));
    assertThat(delta(before, m, "tollgate_client_hello_total", "outcome", "ok")).isEqualTo(4);
    assertThat(delta(before, m, "tollgate_client_hello_total", "outcome", "not_tls")).isEqualTo(1);
    assertThat(delta(before, m, "tollgate_tls_handshake_duration_seconds_count", "mode", "offload"))
        .isEqualTo(2);
    assertThat(delta(before, m, "tollgate_backend_connect_duration_seconds_count", "pool", "shop"))
        .isEqualTo(2);
    assertThat(delta(before, m, "tollgate_backend_connect_duration_seconds_count", "pool", "pass"))
        .isEqualTo(1);

    // Gauges read from the snapshot: servers and the certificate (90 days from the demo CA).
    assertThat(
            value(
                m,
                "tollgate_server_up",
                "pool",
                "shop",
                "server",
                "127.0.0.1:" + shopBackend.port()))
        .isEqualTo(1);
    assertThat(value(m, "tollgate_server_draining", "pool", "pass")).isZero();
    double expiry = value(m, "tollgate_certificate_expiry_seconds", "name", "shop.test");
    assertThat(expiry)
        .isBetween(Duration.ofDays(89).toSeconds() * 1.0, Duration.ofDays(91).toSeconds() * 1.0);
    assertThat(m.find("tollgate_certificate_expiry_seconds").get(0).labels().get("file"))
        .endsWith("shop.pem");
  }

  @Test
  void handshakeFailuresAreCountedByModeAndReason() throws Exception {
    TlsTestClient.Handshake old =
        TlsTestClient.to(tollgate.port())
            .trust(ca.trustManagers())
            .protocols("TLSv1.1")
            .ciphers("TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA")
            .sni("shop.test")
            .handshake();
    assertThat(old.success()).isFalse();
    TollgateFixture.await(
        () ->
            PrometheusText.parse(tollgate.metrics().scrape())
                .value(
                    "tollgate_tls_handshake_failures_total",
                    "mode",
                    "offload",
                    "reason",
                    "handshake")
                .isPresent(),
        Duration.ofSeconds(10));

    assertThat(
            value(
                PrometheusText.parse(tollgate.metrics().scrape()),
                "tollgate_tls_handshake_failures_total",
                "mode",
                "offload",
                "reason",
                "handshake"))
        .isGreaterThanOrEqualTo(1);
  }

  @Test
  void reloadsAreCountedByOutcome() throws Exception {
    Path file = dir.resolve("tollgate.conf");
    double before =
        value(
            PrometheusText.parse(tollgate.metrics().scrape()),
            "tollgate_config_reloads_total",
            "outcome",
            "success");
    tollgate.tollgate().reload(ConfigLoader.load(file));

    // A certificate file that exists (so the config loads) but holds no certificate: the
    // snapshot cannot be built and the reload is refused.
    Path broken = dir.resolve("broken");
    Files.createDirectories(broken);
    Files.writeString(broken.resolve("shop.pem"), "not a certificate\n");
    Files.copy(dir.resolve("shop.key"), broken.resolve("shop.key"));
    Files.copy(dir.resolve("ca.pem"), broken.resolve("ca.pem"));
    Files.writeString(broken.resolve("tollgate.conf"), Files.readString(file));
    assertThatThrownBy(
            () -> tollgate.tollgate().reload(ConfigLoader.load(broken.resolve("tollgate.conf"))))
        .isInstanceOf(ConfigException.class);

    PrometheusText m = PrometheusText.parse(tollgate.metrics().scrape());
    assertThat(value(m, "tollgate_config_reloads_total", "outcome", "success"))
        .isEqualTo(before + 1);
    assertThat(value(m, "tollgate_config_reloads_total", "outcome", "failure")).isEqualTo(1);
    assertThat(value(m, "tollgate_config_last_reload_success_timestamp_seconds"))
        .isCloseTo(System.currentTimeMillis() / 1000.0, org.assertj.core.data.Offset.offset(60.0));
  }

  private static double value(PrometheusText m, String name, String... labels) {
    return m.value(name, labels)
        .orElseThrow(
            () -> new AssertionError("no sample " + name + " " + String.join(",", labels)));
  }

  /** How much a sample grew between two scrapes (absent before counts as 0). */
  private static double delta(
      PrometheusText before, PrometheusText after, String name, String... labels) {
    return value(after, name, labels) - before.value(name, labels).orElse(0);
  }

  private static String firstLine(Socket socket) throws Exception {
    return new BufferedReader(
            new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8))
        .readLine();
  }
}
