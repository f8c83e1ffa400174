package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.tollgate.connection.CloseReason;
import io.tollgate.pki.CertificateAuthority;
import io.tollgate.pki.CertificateAuthority.KeyType;
import io.tollgate.pki.IssuedCertificate;
import io.tollgate.testkit.CommandLineTools;
import io.tollgate.testkit.CommandLineTools.ProcessResult;
import io.tollgate.testkit.TlsTestServer;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Offload seen by real external clients, {@code curl} and {@code openssl s_client} (each test is
 * skipped when its tool is not installed): one listener with two offloaded names (ECDSA certificate
 * below an intermediate, RSA certificate from the root), one offloaded name with ALPN {@code h2}
 * and a passthrough tenant. The config is a file in a temp dir, so every path in it is relative, as
 * an operator would write it.
 */
@Timeout(120)
class OffloadInteropTest {
  private static final Duration TOOL_TIMEOUT = Duration.ofSeconds(20);
  private static final String ROOT_CN = "Tollgate Interop Root";
  private static final String ISSUING_CN = "Tollgate Interop Issuing CA";

  @TempDir static Path dir;
  private static IssuedCertificate shopCert;
  private static IssuedCertificate blogCert;
  private static IssuedCertificate passCert;
  private static PlainHttpResponder shopOrigin;
  private static PlainHttpResponder blogOrigin;
  private static TlsTestServer shopBackend;
  private static TlsTestServer blogBackend;
  @RegisterExtension static final ClassResources resources = new ClassResources();
  private static TollgateFixture tollgate;
  private static Path caPem;

  @BeforeAll
  static void start() throws Exception {
    CertificateAuthority root = CertificateAuthority.create(ROOT_CN, KeyType.EC_P256);
    CertificateAuthority issuing = root.intermediate(ISSUING_CN, KeyType.EC_P256);
    caPem = root.writeCertificatePem(dir.resolve("ca.pem"));
    // shop.pem holds leaf + intermediate; the root is only in ca.pem (trusted-roots).
    shopCert = issuing.issue(KeyType.EC_P256, "shop.test", "h2.shop.test");
    shopCert.writePem(dir, "shop");
    blogCert = root.issue(KeyType.RSA_2048, "blog.test");
    blogCert.writePem(dir, "blog");
    passCert = root.issue(KeyType.EC_P256, "pass.test");

    shopOrigin = new PlainHttpResponder("shop");
    blogOrigin = new PlainHttpResponder("blog");
    shopBackend = resources.add(TlsTestServer.startPlain(shopOrigin));
    blogBackend = resources.add(TlsTestServer.startPlain(blogOrigin));
    TlsTestServer pass =
        resources.add(TlsTestServer.start(passCert, TlsTestServer.greet("pass-tls")));
    tollgate =
        resources.add(
            TollgateFixture.startIn(
                dir,
                String.format(
                    """
        certificates { trusted-roots = "ca.pem" }
        routes = [
          { hosts = ["pass.test"], mode = passthrough, pool = pass }
          { hosts = ["shop.test"], mode = offload, pool = shop,
            certificate { chain = "shop.pem", key = "shop.key" } }
          { hosts = ["h2.shop.test"], mode = offload, pool = shop, alpn = ["h2", "http/1.1"],
            certificate { chain = "shop.pem", key = "shop.key" } }
          { hosts = ["blog.test"], mode = offload, pool = blog,
            protocols = ["TLSv1.2", "TLSv1.3"],
            certificate { chain = "blog.pem", key = "blog.key" } }
        ]
        pools {
          pass { servers = ["127.0.0.1:%d"] }
          shop { servers = ["127.0.0.1:%d"] }
          blog { servers = ["127.0.0.1:%d"] }
        }
        """,
                    pass.port(), shopBackend.port(), blogBackend.port())));
  }

  // ------------------------------------------------------------------------------------- curl

  @Test
  void curlGetsAPlaintextAnswerOverOffloadWithAlpnHttp11() {
    String curl = tool("curl");
    int port = tollgate.port();
    ProcessResult r =
        CommandLineTools.run(
            TOOL_TIMEOUT,
            curl,
            "-sS",
            "-v",
            "--max-time",
            "15",
            "--resolve",
            "shop.test:" + port + ":127.0.0.1",
            "--cacert",
            caPem.toString(),
            "-w",
            "\n%{http_version} %{ssl_verify_result}\n",
            "https://shop.test:" + port + "/curl-default");
    assertThat(r.ok()).as("%s", r).isTrue();
    // The backend is plain TCP: it parsed the request line, so plaintext HTTP arrived.
    assertThat(r.stdout())
        .as("%s", r)
        .startsWith("hello from shop over plaintext: GET /curl-default HTTP/1.1\n")
        .endsWith("\n1.1 0\n");
    assertThat(headStartingWith(shopOrigin, "GET /curl-default "))
        .startsWith("GET /curl-default HTTP/1.1\r\n")
        .containsIgnoringCase("\r\nHost: shop.test:" + port + "\r\n");
    // curl offers h2 and http/1.1; the route's default ALPN list has only http/1.1.
    assertThat(r.stderr())
        .as("%s", r)
        .containsPattern("ALPN[:,] offers h2")
        .containsPattern("ALPN[:,] server accepted (to use )?http/1\\.1")
        .containsPattern("SSL connection using TLSv1\\.3");
  }

  @Test
  void curlOverTls12ToTheRsaRouteUsesAnEcdheAeadSuite() {
    String curl = tool("curl");
    int port = tollgate.port();
    ProcessResult r =
        CommandLineTools.run(
            TOOL_TIMEOUT,
            curl,
            "-sS",
            "-v",
            "--max-time",
            "15",
            "--tlsv1.2",
            "--tls-max",
            "1.2",
            "--resolve",
            "blog.test:" + port + ":127.0.0.1",
            "--cacert",
            caPem.toString(),
            "-w",
            "\n%{http_version} %{ssl_verify_result}\n",
            "https://blog.test:" + port + "/curl-tls12");
    assertThat(r.ok()).as("%s", r).isTrue();
    assertThat(r.stdout())
        .as("%s", r)
        .startsWith("hello from blog over plaintext: GET /curl-tls12 HTTP/1.1\n")
        .endsWith("\n1.1 0\n");
    assertThat(headStartingWith(blogOrigin, "GET /curl-tls12 ")).startsWith("GET /curl-tls12 ");
    assertThat(r.stderr())
        .as("%s", r)
        .containsPattern(
            "SSL connection using TLSv1\\.2 / ECDHE-RSA-(AES(128|256)-GCM-SHA(256|384)"
                + "|CHACHA20-POLY1305)")
        .containsPattern("ALPN[:,] server accepted (to use )?http/1\\.1");
  }

  private static String headStartingWith(PlainHttpResponder origin, String prefix) {
    return origin.headTexts().stream()
        .filter(h -> h.startsWith(prefix))
        .findFirst()
        .orElseThrow(
            () ->
                new AssertionError(
                    "no request starting with '"
                        + prefix
                        + "' reached the backend; it saw "
                        + origin.headTexts()));
  }

  // ---------------------------------------------------------------------------- s_client: names

  @Test
  void opensslSeesTheRightCertificateChainAndAlpnForEachName() {
    tool("openssl");
    // shop.test: ECDSA leaf, sent with its intermediate; ALPN http/1.1 although h2 was offered.
    String shop = connectOk("shop.test", "-alpn", "h2,http/1.1");
    assertThat(shop)
        .contains("subject=O = Tollgate demo, CN = shop.test\n")
        .contains("issuer=O = Tollgate demo, CN = " + ISSUING_CN + "\n")
        .contains(" 1 s:O = Tollgate demo, CN = " + ISSUING_CN + "\n")
        .contains("i:O = Tollgate demo, CN = " + ROOT_CN + "\n")
        .contains("Server public key is 256 bit")
        .contains("ALPN protocol: http/1.1")
        .contains("New, TLSv1.3, Cipher is ");
    assertThat(serverCertificate(shop)).isEqualTo(shopCert.certificate());

    // Same certificate, other route: its ALPN list puts h2 first.
    String h2 = connectOk("h2.shop.test", "-alpn", "h2,http/1.1");
    assertThat(h2)
        .contains("subject=O = Tollgate demo, CN = shop.test\n")
        .contains("ALPN protocol: h2");

    // blog.test: RSA leaf straight from the root, nothing else in the chain.
    String blog = connectOk("blog.test", "-alpn", "h2,http/1.1");
    assertThat(blog)
        .contains("subject=O = Tollgate demo, CN = blog.test\n")
        .contains("issuer=O = Tollgate demo, CN = " + ROOT_CN + "\n")
        .doesNotContain(" 1 s:")
        .contains("Server public key is 2048 bit")
        .contains("ALPN protocol: http/1.1");
    assertThat(serverCertificate(blog)).isEqualTo(blogCert.certificate());

    // pass.test: not terminated, so the backend's own certificate (and no ALPN: it has none).
    String pass = connectOk("pass.test");
    assertThat(pass)
        .contains("subject=O = Tollgate demo, CN = pass.test\n")
        .contains("issuer=O = Tollgate demo, CN = " + ROOT_CN + "\n");
    assertThat(serverCertificate(pass)).isEqualTo(passCert.certificate());
  }

  /** s_client to {@code name}, verifying chain and host name against ca.pem; returns stdout. */
  private static String connectOk(String name, String... extra) {
    List<String> args =
        new ArrayList<>(
            List.of("-servername", name, "-verify_hostname", name, "-verify_return_error"));
    args.addAll(List.of(extra));
    ProcessResult r = sClient(args);
    assertThat(r.ok()).as("s_client %s: %s", name, r).isTrue();
    assertThat(r.stdout()).as("s_client %s: %s", name, r).contains("Verify return code: 0 (ok)");
    return r.stdout();
  }

  private static final Pattern PEM =
      Pattern.compile(
          "-----BEGIN CERTIFICATE-----\\s*([A-Za-z0-9+/=\\s]+?)-----END CERTIFICATE-----");

  /** The "Server certificate" PEM block s_client prints, as a certificate. */
  private static X509Certificate serverCertificate(String sClientOutput) {
    Matcher m = PEM.matcher(sClientOutput);
    assertThat(m.find()).as("server certificate in s_client output").isTrue();
    byte[] der = Base64.getMimeDecoder().decode(m.group(1));
    try {
      return (X509Certificate)
          java.security.cert.CertificateFactory.getInstance("X.509")
              .generateCertificate(new java.io.ByteArrayInputStream(der));
    } catch (java.security.cert.CertificateException e) {
      throw new AssertionError(e);
    }
  }

  // ------------------------------------------------------------------------- s_client: policy

  @ParameterizedTest
  @ValueSource(strings = {"-tls1", "-tls1_1"})
  void opensslWithAnOldProtocolGetsAProtocolVersionAlert(String flag) throws Exception {
    tool("openssl");
    // OpenSSL 3 refuses TLS 1.0/1.1 itself at security level 1 and above: level 0 makes it
    // really send such a ClientHello, so the alert below can only come from Tollgate.
    int accepted = shopBackend.acceptedConnections();
    long before = tollgate.metrics().closedCount(CloseReason.HANDSHAKE_FAILED);
    ProcessResult r =
        sClient(List.of("-servername", "shop.test", flag, "-cipher", "DEFAULT:@SECLEVEL=0"));
    String all = r.stdout() + r.stderr();
    assertThat(r.ok()).as("%s", r).isFalse();
    assertThat(r.timedOut()).as("%s", r).isFalse();
    assertThat(all).as("%s", r).contains("alert protocol version");
    assertThat(all).as("%s", r).doesNotContain("Server certificate");
    TollgateFixture.await(
        () -> tollgate.metrics().closedCount(CloseReason.HANDSHAKE_FAILED) > before,
        Duration.ofSeconds(10));
    assertThat(tollgate.metrics().closedCount(CloseReason.HANDSHAKE_FAILED))
        .as("closes by reason: %s", tollgate.metrics().closedByReason())
        .isEqualTo(before + 1);
    assertThat(shopBackend.acceptedConnections()).as("backend connections").isEqualTo(accepted);
  }

  @Test
  void opensslAtSecurityLevelZeroStillConnectsWithTls12() {
    // Control for the test above: the same client settings are fine with TLS 1.2.
    tool("openssl");
    ProcessResult r =
        sClient(
            List.of(
                "-servername",
                "shop.test",
                "-tls1_2",
                "-cipher",
                "DEFAULT:@SECLEVEL=0",
                "-verify_return_error"));
    assertThat(r.ok()).as("%s", r).isTrue();
    assertThat(r.stdout()).contains("New, TLSv1.2, Cipher is ");
  }

  @ParameterizedTest(name = "{0} with {1}")
  @CsvSource({
    // no ECDHE (RSA key exchange), CBC
    "blog.test, AES128-SHA",
    // no ECDHE, even with AEAD
    "blog.test, AES128-GCM-SHA256",
    // ECDHE, but CBC
    "blog.test, ECDHE-RSA-AES128-SHA",
    "shop.test, ECDHE-ECDSA-AES256-SHA",
    // ECDHE, CBC with SHA-256 MAC
    "shop.test, ECDHE-ECDSA-AES128-SHA256",
  })
  void opensslWithOnlyAWeakTls12SuiteGetsAHandshakeFailure(String name, String cipher) {
    tool("openssl");
    int accepted = shopBackend.acceptedConnections() + blogBackend.acceptedConnections();
    ProcessResult r = sClient(List.of("-servername", name, "-tls1_2", "-cipher", cipher));
    String all = r.stdout() + r.stderr();
    assertThat(r.ok()).as("%s", r).isFalse();
    assertThat(r.timedOut()).as("%s", r).isFalse();
    // The server's alert: the client did offer the suite (a client-side refusal has no alert).
    assertThat(all).as("%s", r).contains("alert handshake failure");
    assertThat(shopBackend.acceptedConnections() + blogBackend.acceptedConnections())
        .as("backend connections")
        .isEqualTo(accepted);
  }

  @ParameterizedTest(name = "{0} with {1}")
  @CsvSource({
    "blog.test, ECDHE-RSA-AES128-GCM-SHA256",
    "blog.test, ECDHE-RSA-CHACHA20-POLY1305",
    "shop.test, ECDHE-ECDSA-AES256-GCM-SHA384",
  })
  void opensslWithAnEcdheAeadTls12SuiteConnects(String name, String cipher) {
    tool("openssl");
    ProcessResult r =
        sClient(
            List.of(
                "-servername",
                name,
                "-tls1_2",
                "-cipher",
                cipher,
                "-verify_hostname",
                name,
                "-verify_return_error"));
    assertThat(r.ok()).as("%s", r).isTrue();
    assertThat(r.stdout())
        .as("%s", r)
        .contains("Cipher is " + cipher)
        .contains("New, TLSv1.2, Cipher is ");
  }

  // ---------------------------------------------------------------------------------- helpers

  private static ProcessResult sClient(List<String> args) {
    List<String> command =
        new ArrayList<>(
            List.of(
                tool("openssl"),
                "s_client",
                "-connect",
                "127.0.0.1:" + tollgate.port(),
                "-CAfile",
                caPem.toString()));
    command.addAll(args);
    // stdin is /dev/null: s_client handshakes, prints, reads EOF and closes.
    return CommandLineTools.run(TOOL_TIMEOUT, command);
  }

  private static String tool(String name) {
    var path = CommandLineTools.which(name);
    assumeThat(path).as(name + " is not installed").isPresent();
    return path.get().toString();
  }
}
