package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tollgate.cli.TollgateCli;
import io.tollgate.config.ConfigLoader;
import io.tollgate.pki.CertificateAuthority;
import io.tollgate.pki.CertificateAuthority.KeyType;
import io.tollgate.pki.IssuedCertificate;
import io.tollgate.testkit.TlsTestClient;
import io.tollgate.testkit.TlsTestServer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * One tenant's lapsed certificate is that tenant's problem alone: the config still starts and
 * reloads, the other tenants are served, the lapsed tenant answers with its (expired) certificate,
 * and {@code check} reports it (failing only with {@code --strict}).
 */
class CertificateTroubleIsolationTest {
  @TempDir Path dir;
  private CertificateAuthority ca;
  private IssuedCertificate lapsed;

  @BeforeEach
  void certificates() {
    ca = CertificateAuthority.create("Isolation CA", KeyType.EC_P256);
    ca.writeCertificatePem(dir.resolve("ca.pem"));
    ca.issue(KeyType.EC_P256, "good.test").writePem(dir, "good");
    lapsed =
        ca.leaf("lapsed.test")
            .notBefore(Instant.now().minus(Duration.ofDays(90)))
            .notAfter(Instant.now().minus(Duration.ofDays(2)))
            .issue();
  }

  private static String config(int goodPort, int lapsedPort) {
    return String.format(
        """
        certificates { trusted-roots = "ca.pem" }
        routes = [
          { hosts = ["good.test"], mode = offload, pool = good,
            certificate { chain = "good.pem", key = "good.key" } }
          { hosts = ["lapsed.test"], mode = offload, pool = lapsed,
            certificate { chain = "lapsed.pem", key = "lapsed.key" } }
        ]
        pools {
          good { servers = ["127.0.0.1:%d"] }
          lapsed { servers = ["127.0.0.1:%d"] }
        }
        """,
        goodPort, lapsedPort);
  }

  @Test
  void anExpiredCertificateOfOneRouteDoesNotKeepTheOthersFromBeingServed() throws Exception {
    lapsed.writePem(dir, "lapsed");
    try (TlsTestServer good = TlsTestServer.startPlain(TlsTestServer.greet("good"));
        TlsTestServer other = TlsTestServer.startPlain(TlsTestServer.greet("lapsed"));
        TollgateFixture tollgate =
            TollgateFixture.startIn(dir, config(good.port(), other.port()))) {
      assertGoodIsServed(tollgate);
      assertLapsedAnswersWithItsExpiredCertificate(tollgate);

      double expiry =
          PrometheusText.parse(tollgate.metrics().scrape())
              .value("tollgate_certificate_expiry_seconds", "name", "lapsed.test")
              .getAsDouble();
      assertThat(expiry).isNegative().isGreaterThan(-3.0 * 86400);
    }
  }

  @Test
  void aReloadWithANewlyExpiredCertificateIsAccepted() throws Exception {
    ca.issue(KeyType.EC_P256, "lapsed.test").writePem(dir, "lapsed");
    try (TlsTestServer good = TlsTestServer.startPlain(TlsTestServer.greet("good"));
        TlsTestServer other = TlsTestServer.startPlain(TlsTestServer.greet("lapsed"));
        TollgateFixture tollgate =
            TollgateFixture.startIn(dir, config(good.port(), other.port()))) {
      try (TlsTestClient.Connection c = TlsTestClient.connect(tollgate.port(), "lapsed.test", ca)) {
        assertThat(readLine(c)).isEqualTo("lapsed");
      }
      lapsed.writePem(dir, "lapsed");
      long version = tollgate.tollgate().configVersion();
      tollgate.tollgate().reload(ConfigLoader.load(dir.resolve("tollgate.conf")));
      assertThat(tollgate.tollgate().configVersion()).isEqualTo(version + 1);
      assertGoodIsServed(tollgate);
      assertLapsedAnswersWithItsExpiredCertificate(tollgate);
    }
  }

  @Test
  void checkPrintsTheWarningAndSucceedsUnlessStrict() throws Exception {
    lapsed.writePem(dir, "lapsed");
    java.nio.file.Files.writeString(
        dir.resolve("tollgate.conf"),
        "tollgate {\n  listeners = [ { name = main, address = \"127.0.0.1:0\" } ]\n"
            + config(9001, 9002)
            + "\n}\n");
    String file = dir.resolve("tollgate.conf").toString();

    String[] plain = cli("check", "--config", file);
    assertThat(plain[0]).isEqualTo("0");
    assertThat(plain[1]).contains("tollgate.conf: OK");
    assertThat(plain[2])
        .containsPattern(
            "warning: .*lapsed\\.pem.*tollgate\\.routes\\[1\\]" + "\\.certificate.*expired on");

    String[] strict = cli("check", "--strict", "--config", file);
    assertThat(strict[0]).isEqualTo("1");
    assertThat(strict[1]).doesNotContain("OK");
    assertThat(strict[2]).contains("expired on").contains("failing because of --strict");
  }

  @Test
  void explainSaysTheCertificateIsExpired() throws Exception {
    lapsed.writePem(dir, "lapsed");
    java.nio.file.Files.writeString(
        dir.resolve("tollgate.conf"),
        "tollgate {\n  listeners = [ { name = main, address = \"127.0.0.1:0\" } ]\n"
            + config(9001, 9002)
            + "\n}\n");
    String[] r =
        cli("explain", "--config", dir.resolve("tollgate.conf").toString(), "--sni", "lapsed.test");
    assertThat(r[0]).isEqualTo("0");
    assertThat(r[1]).containsPattern("lapsed\\.pem \\[ECDSA, .*EXPIRED on .*clients refuse it");
    assertThat(
            cli(
                "explain",
                "--config",
                dir.resolve("tollgate.conf").toString(),
                "--sni",
                "good.test")[1])
        .contains("valid until")
        .doesNotContain("EXPIRED");
  }

  private void assertGoodIsServed(TollgateFixture tollgate) throws Exception {
    try (TlsTestClient.Connection c = TlsTestClient.connect(tollgate.port(), "good.test", ca)) {
      assertThat(readLine(c)).isEqualTo("good");
    }
  }

  /** A verifying JDK client refuses it as expired, having been shown exactly that certificate. */
  private void assertLapsedAnswersWithItsExpiredCertificate(TollgateFixture tollgate)
      throws Exception {
    AtomicReference<X509Certificate> presented = new AtomicReference<>();
    SSLContext recording = recordingContext(presented);
    assertThatThrownBy(
            () ->
                TlsTestClient.connect(
                    new InetSocketAddress(InetAddress.getLoopbackAddress(), tollgate.port()),
                    "lapsed.test",
                    "lapsed.test",
                    recording,
                    Duration.ofSeconds(10)))
        .hasRootCauseInstanceOf(CertificateExpiredException.class);
    assertThat(presented.get()).isEqualTo(lapsed.certificate());
  }

  /** Trusts what the CA's trust manager trusts, after noting the leaf the server presented. */
  private SSLContext recordingContext(AtomicReference<X509Certificate> presented) throws Exception {
    X509TrustManager delegate = (X509TrustManager) ca.trustManagers().getTrustManagers()[0];
    X509TrustManager recording =
        new X509TrustManager() {
          @Override
          public void checkClientTrusted(X509Certificate[] chain, String authType)
              throws CertificateException {
            delegate.checkClientTrusted(chain, authType);
          }

          @Override
          public void checkServerTrusted(X509Certificate[] chain, String authType)
              throws CertificateException {
            presented.set(chain[0]);
            delegate.checkServerTrusted(chain, authType);
          }

          @Override
          public X509Certificate[] getAcceptedIssuers() {
            return delegate.getAcceptedIssuers();
          }
        };
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, new TrustManager[] {recording}, null);
    return context;
  }

  private static String readLine(TlsTestClient.Connection c) throws Exception {
    return new BufferedReader(
            new InputStreamReader(c.socket().getInputStream(), StandardCharsets.UTF_8))
        .readLine();
  }

  private static String[] cli(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cmd = TollgateCli.commandLine();
    cmd.setOut(new PrintWriter(out));
    cmd.setErr(new PrintWriter(err));
    int exit = cmd.execute(args);
    return new String[] {Integer.toString(exit), out.toString(), err.toString()};
  }
}
