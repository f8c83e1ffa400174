package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.tollgate.config.ConfigLoader;
import io.tollgate.connection.CloseReason;
import io.tollgate.pki.CertificateAuthority;
import io.tollgate.pki.CertificateAuthority.KeyType;
import io.tollgate.pki.IssuedCertificate;
import io.tollgate.testkit.FreePorts;
import io.tollgate.testkit.PebbleServer;
import io.tollgate.testkit.TlsTestClient;
import io.tollgate.testkit.TlsTestServer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 12, tls-alpn-01, against a real ACME server (Debian's pebble) whose validator connects to
 * Tollgate's TLS listener: issuance and a real client getting the issued certificate through
 * Tollgate, passthrough tenants keeping their acme-tls/1 hellos, a refused name reported per name,
 * the stored certificate kept across a reload and a restart, a CA that is down, renewal.
 */
class AcmeTlsAlpnTest {
  private static final Duration BOUND = Duration.ofSeconds(60);

  @TempDir Path dir;
  private final List<AutoCloseable> resources = new java.util.ArrayList<>();
  private CertificateAuthority tenantCa;
  private IssuedCertificate tenantCert;
  private TlsTestServer shop;
  private TlsTestServer tenant;
  private TlsTestServer files;

  @BeforeEach
  void backends() throws Exception {
    Assumptions.assumeTrue(
        PebbleServer.installed(), "pebble is not installed (apt install pebble)");
    tenantCa = CertificateAuthority.create("Tenant CA", KeyType.EC_P256);
    tenantCert = tenantCa.issue(KeyType.EC_P256, "tenant.test");
    tenantCa.issue(KeyType.EC_P256, "files.test").writePem(dir, "files");
    shop = add(TlsTestServer.startPlain(TlsTestServer.greet("shop-plain")));
    files = add(TlsTestServer.startPlain(TlsTestServer.greet("files-plain")));
    tenant = add(TlsTestServer.start(tenantCert, TlsTestServer.greet("tenant-tls")));
  }

  @AfterEach
  void closeAll() throws Exception {
    for (int i = resources.size() - 1; i >= 0; i--) {
      resources.get(i).close();
    }
  }

  private <T extends AutoCloseable> T add(T resource) {
    resources.add(resource);
    return resource;
  }

  private String config(String directory, String caPem, String extraAcme, String extraRoutes) {
    return String.format(
        """
        acme {
          directory = "%s"
          email = "ops@shop.test"
          storage = "acme"
          ca = "%s"
          challenge = tls-alpn-01
          %s
        }
        routes = [
          { hosts = ["shop.test", "www.shop.test"], mode = offload, pool = shop, certificate = acme }
          { hosts = ["tenant.test"], mode = passthrough, pool = tenant }
          { hosts = ["files.test"], mode = offload, pool = files,
            certificate { chain = "files.pem", key = "files.key" } }
          %s
        ]
        pools {
          shop { servers = ["127.0.0.1:%d"] }
          tenant { servers = ["127.0.0.1:%d"] }
          files { servers = ["127.0.0.1:%d"] }
          %s
        }
        """,
        directory,
        caPem,
        extraAcme,
        extraRoutes,
        shop.port(),
        tenant.port(),
        files.port(),
        extraRoutes.isEmpty() ? "" : "refused { servers = [\"127.0.0.1:" + shop.port() + "\"] }");
  }

  private TollgateFixture tollgate(int port, String body) throws Exception {
    return TollgateFixture.startIn(
        dir, "[ { name = main, address = \"127.0.0.1:" + port + "\" } ]", body);
  }

  private static Map<String, Object> status(TollgateFixture t, String route) {
    return t.tollgate().acme().status().stream()
        .filter(s -> s.get("route").equals(route))
        .findFirst()
        .orElseThrow();
  }

  private static Supplier<String> describe(TollgateFixture t) {
    return () -> "acme status " + t.tollgate().acme().status();
  }

  /** A JDK client through Tollgate, trusting only pebble's root: the chain and the bytes. */
  private static X509Certificate fetch(int port, String name, TrustManagerFactory roots)
      throws Exception {
    SSLContext context = TlsTestClient.context(null, roots);
    try (TlsTestClient.Connection c =
        TlsTestClient.connect(
            new java.net.InetSocketAddress("127.0.0.1", port),
            name,
            name,
            context,
            TlsTestClient.DEFAULT_TIMEOUT)) {
      String line =
          new BufferedReader(
                  new InputStreamReader(c.socket().getInputStream(), StandardCharsets.UTF_8))
              .readLine();
      assertThat(line).isEqualTo("shop-plain");
      return (X509Certificate) c.socket().getSession().getPeerCertificates()[0];
    }
  }

  @Test
  void issuesServesKeepsAcrossReloadAndRestartAndReportsARefusedName() throws Exception {
    assertTimeoutPreemptively(
        Duration.ofSeconds(180),
        () -> {
          int port = FreePorts.next();
          PebbleServer pebble =
              add(
                  PebbleServer.start(
                      dir.resolve("pebble"),
                      new PebbleServer.Options(port, FreePorts.next()).blocked("refused.test")));
          String body =
              config(
                  pebble.directory(),
                  pebble.httpsCa().toString(),
                  "",
                  "{ hosts = [\"refused.test\"], mode = offload, pool = refused,"
                      + " certificate = acme }");
          TollgateFixture t = add(tollgate(port, body));
          // Other routes are served while the order runs.
          assertThat(
                  TlsTestClient.to(port)
                      .sni("files.test")
                      .trust(tenantCa.trustManagers())
                      .handshake()
                      .success())
              .isTrue();
          TollgateFixture.await(
              () -> "valid".equals(status(t, "shop.test").get("state")), BOUND, describe(t));
          TrustManagerFactory roots = pebble.issuedRoots();
          X509Certificate issued = fetch(port, "shop.test", roots);
          assertThat(
                  issued.getSubjectAlternativeNames().stream().map(n -> (Object) n.get(1)).toList())
              .contains((Object) "shop.test", "www.shop.test");
          assertThat(fetch(port, "www.shop.test", roots).getSerialNumber())
              .isEqualTo(issued.getSerialNumber());
          // A hello offering only acme-tls/1 with nothing pending is routed as usual.
          TlsTestClient.Handshake acmeHello =
              TlsTestClient.to(port).sni("shop.test").alpn("acme-tls/1").trust(roots).handshake();
          assertThat(acmeHello.success()).isTrue();
          assertThat(acmeHello.peer().getSerialNumber()).isEqualTo(issued.getSerialNumber());
          // A passthrough tenant's acme-tls/1 hello reaches the tenant, which answers itself.
          TlsTestClient.Handshake tenantHello =
              TlsTestClient.to(port)
                  .sni("tenant.test")
                  .alpn("acme-tls/1")
                  .trust(tenantCa.trustManagers())
                  .handshake();
          assertThat(tenantHello.success()).isTrue();
          assertThat(tenantHello.peer()).isEqualTo(tenantCert.certificate());
          assertThat(tenant.acceptedConnections()).isEqualTo(1);
          // Tollgate answered pebble's validations of both names.
          assertThat(t.metrics().closedCount(CloseReason.ACME_CHALLENGE)).isGreaterThanOrEqualTo(2);

          // The refused name: an error of its own, in /status and in the metrics.
          TollgateFixture.await(
              () -> status(t, "refused.test").get("last_error") != null, BOUND, describe(t));
          assertThat(status(t, "refused.test").get("state")).isEqualTo("failed");
          assertThat((String) status(t, "refused.test").get("last_error")).contains("refused.test");
          assertThat(status(t, "shop.test").get("last_error")).isNull();
          // The route swaps its new contexts in off the event loops, just after "valid".
          TollgateFixture.await(
              () ->
                  PrometheusText.parse(t.metrics().scrape()).samples.stream()
                      .anyMatch(AcmeTlsAlpnTest::shopExpiry),
              BOUND,
              describe(t));
          PrometheusText metrics = PrometheusText.parse(t.metrics().scrape());
          assertThat(metrics.samples)
              .anyMatch(
                  s ->
                      s.name().equals("tollgate_acme_last_error_timestamp_seconds")
                          && s.labels().get("name").equals("refused.test"))
              .noneMatch(
                  s ->
                      s.name().equals("tollgate_acme_last_error_timestamp_seconds")
                          && s.labels().get("name").equals("shop.test"))
              .anyMatch(
                  s ->
                      s.name().equals("tollgate_acme_orders_total")
                          && s.labels().get("outcome").equals("issued")
                          && s.value() == 1)
              .anyMatch(
                  s ->
                      s.name().equals("tollgate_acme_orders_total")
                          && s.labels().get("outcome").equals("refused")
                          && s.value() >= 1)
              .anyMatch(s -> shopExpiry(s) && s.value() > 0);
          // Before its certificate exists, the refused name's handshakes fail with a clear reason.
          assertThat(TlsTestClient.to(port).sni("refused.test").trust(roots).handshake().success())
              .isFalse();
          t.awaitClosed(CloseReason.CERTIFICATE_PENDING, 1);

          // A reload keeps the stored certificate: no new order.
          t.tollgate().reload(ConfigLoader.load(dir.resolve("tollgate.conf")));
          assertThat(fetch(port, "shop.test", roots).getSerialNumber())
              .isEqualTo(issued.getSerialNumber());
          assertThat(t.tollgate().acme().orders("issued")).isEqualTo(1);

          // So does a restart: the new process serves it from storage at once.
          t.close();
          resources.remove(t);
          TollgateFixture again = add(tollgate(port, body));
          BigInteger served = fetch(port, "shop.test", roots).getSerialNumber();
          assertThat(served).isEqualTo(issued.getSerialNumber());
          assertThat(status(again, "shop.test").get("state")).isIn("valid", "pending");
          TollgateFixture.await(
              () -> "valid".equals(status(again, "shop.test").get("state")),
              BOUND,
              describe(again));
          assertThat(again.tollgate().acme().orders("issued")).isZero();
          assertThat(Files.exists(dir.resolve("acme/certificates/shop.test/ecdsa.pem"))).isTrue();
        });
  }

  @Test
  void caDownIsRetriedWithBackoffWhileOtherRoutesWork() throws Exception {
    assertTimeoutPreemptively(
        Duration.ofSeconds(180),
        () -> {
          int port = FreePorts.next();
          int acmePort = FreePorts.next();
          Path pebbleDir = dir.resolve("pebble");
          Path caPem = PebbleServer.httpsCa(pebbleDir);
          TollgateFixture t =
              add(
                  tollgate(
                      port, config(PebbleServer.directory(acmePort), caPem.toString(), "", "")));
          TollgateFixture.await(
              () -> ((Integer) status(t, "shop.test").get("failures")) >= 2, BOUND, describe(t));
          Map<String, Object> down = status(t, "shop.test");
          assertThat(down.get("state")).isEqualTo("failed");
          assertThat(t.tollgate().acme().orders("unreachable")).isGreaterThanOrEqualTo(2);
          // The retry is scheduled after the failure (a backoff); not compared with now: on a
          // loaded machine the status may be read just as that time passes.
          assertThat(java.time.Instant.parse((String) down.get("next_attempt")))
              .isAfter(java.time.Instant.parse((String) down.get("last_error_at")));
          // Handshakes for the name fail with their reason; other routes are untouched.
          assertThat(TlsTestClient.to(port).sni("shop.test").handshake().success()).isFalse();
          t.awaitClosed(CloseReason.CERTIFICATE_PENDING, 1);
          assertThat(
                  TlsTestClient.to(port)
                      .sni("files.test")
                      .trust(tenantCa.trustManagers())
                      .handshake()
                      .success())
              .isTrue();

          PebbleServer pebble =
              add(
                  PebbleServer.start(
                      pebbleDir,
                      new PebbleServer.Options(port, FreePorts.next()).acmePort(acmePort)));
          TollgateFixture.await(
              () -> "valid".equals(status(t, "shop.test").get("state")), BOUND, describe(t));
          fetch(port, "shop.test", pebble.issuedRoots());
          assertThat(status(t, "shop.test").get("last_error")).isNull();
        });
  }

  @Test
  void renewsAShortLivedCertificateWithoutAReload() throws Exception {
    assertTimeoutPreemptively(
        Duration.ofSeconds(180),
        () -> {
          int port = FreePorts.next();
          PebbleServer pebble =
              add(
                  PebbleServer.start(
                      dir.resolve("pebble"),
                      new PebbleServer.Options(port, FreePorts.next())
                          .validity(Duration.ofSeconds(60))));
          TollgateFixture t =
              add(
                  tollgate(
                      port,
                      config(
                          pebble.directory(),
                          pebble.httpsCa().toString(),
                          "renew-before = 20s",
                          "")));
          TollgateFixture.await(
              () -> "valid".equals(status(t, "shop.test").get("state")), BOUND, describe(t));
          TrustManagerFactory roots = pebble.issuedRoots();
          BigInteger first = fetch(port, "shop.test", roots).getSerialNumber();
          TlsTestClient.Connection held =
              TlsTestClient.connect(
                  new java.net.InetSocketAddress("127.0.0.1", port),
                  "shop.test",
                  "shop.test",
                  TlsTestClient.context(null, roots),
                  TlsTestClient.DEFAULT_TIMEOUT);
          BufferedReader heldIn =
              new BufferedReader(
                  new InputStreamReader(held.socket().getInputStream(), StandardCharsets.UTF_8));
          assertThat(heldIn.readLine()).isEqualTo("shop-plain");
          assertThat(held.peerCertificate().getSerialNumber()).isEqualTo(first);
          // Issued for 60 s, renewed 20 s before expiry.
          TollgateFixture.await(
              () -> t.tollgate().acme().orders("issued") >= 2, Duration.ofSeconds(90), describe(t));
          BigInteger second = fetch(port, "shop.test", roots).getSerialNumber();
          assertThat(second).isNotEqualTo(first);
          // The connection made before the renewal was not dropped.
          held.socket().getOutputStream().write("after renewal\n".getBytes(StandardCharsets.UTF_8));
          held.socket().getOutputStream().flush();
          assertThat(heldIn.readLine()).isEqualTo("after renewal");
          held.close();
        });
  }

  /**
   * http-01 through Tollgate's {@code HttpChallenges}: until the {@code protocol = http} listener
   * is merged (another part of issue 12), a test-only responder on pebble's http port answers
   * {@code GET /.well-known/acme-challenge/TOKEN} by asking Tollgate, as that listener will.
   */
  @Test
  void issuesThroughHttp01AnsweredByTheHttpListener() throws Exception {
    assertTimeoutPreemptively(
        Duration.ofSeconds(180),
        () -> {
          int port = FreePorts.next();
          int httpPort = FreePorts.next();
          PebbleServer pebble =
              add(
                  PebbleServer.start(
                      dir.resolve("pebble"), new PebbleServer.Options(FreePorts.next(), httpPort)));
          // Pebble's http-01 validation goes to Tollgate's port-80 companion listener.
          TollgateFixture t =
              add(
                  TollgateFixture.startIn(
                      dir,
                      "[ { name = main, address = \"127.0.0.1:"
                          + port
                          + "\" }, { name = web, address = \"127.0.0.1:"
                          + httpPort
                          + "\", protocol = http } ]",
                      config(pebble.directory(), pebble.httpsCa().toString(), "", "")
                          .replace("challenge = tls-alpn-01", "challenge = http-01")));
          TollgateFixture.await(
              () -> "valid".equals(status(t, "shop.test").get("state")), BOUND, describe(t));
          // Both names were validated by a GET the http listener answered itself.
          assertThat(t.metrics().closedCount(CloseReason.HTTP_CHALLENGE_ANSWERED))
              .isGreaterThanOrEqualTo(2);
          assertThat(t.metrics().closedCount(CloseReason.ACME_CHALLENGE)).isZero();
          fetch(port, "shop.test", pebble.issuedRoots());
          // Nothing pending any more: the answers are withdrawn.
          assertThat(t.tollgate().httpChallenges().keyAuthorization("shop.test", "x")).isEmpty();
        });
  }

  /**
   * A passthrough tenant runs its own ACME client behind Tollgate: here a second Tollgate, the
   * tenant's, with {@code certificate = acme}. Pebble validates the tenant's name at the edge
   * Tollgate (its TLS listener for tls-alpn-01, its http listener for http-01), which relays the
   * validation to the tenant untouched (passthrough; http-pool), and the tenant gets its
   * certificate. A client then reaches the tenant through the edge with it.
   */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"tls-alpn-01", "http-01"})
  void aPassthroughTenantsOwnAcmeClientIsValidatedThroughTollgate(String challenge)
      throws Exception {
    assertTimeoutPreemptively(
        Duration.ofSeconds(180),
        () -> {
          int edgeTls = FreePorts.next();
          int edgeHttp = FreePorts.next();
          int tenantTls = FreePorts.next();
          int tenantHttp = FreePorts.next();
          PebbleServer pebble =
              add(
                  PebbleServer.start(
                      dir.resolve("pebble"), new PebbleServer.Options(edgeTls, edgeHttp)));
          Path tenantDir = java.nio.file.Files.createDirectories(dir.resolve("tenant"));
          TollgateFixture tenantEdge =
              add(
                  TollgateFixture.startIn(
                      tenantDir,
                      "[ { name = main, address = \"127.0.0.1:"
                          + tenantTls
                          + "\" }, { name = web, address = \"127.0.0.1:"
                          + tenantHttp
                          + "\", protocol = http } ]",
                      String.format(
                          """
                          acme {
                            directory = "%s"
                            storage = "acme"
                            ca = "%s"
                            challenge = %s
                          }
                          routes = [
                            { hosts = ["tenant.test"], mode = offload, pool = app,
                              certificate = acme }
                          ]
                          pools { app { servers = ["127.0.0.1:%d"] } }
                          """,
                          pebble.directory(), pebble.httpsCa(), challenge, shop.port())));
          // Tollgate at the edge holds no certificate of the tenant's and no ACME client.
          TollgateFixture edge =
              add(
                  TollgateFixture.startIn(
                      dir,
                      "[ { name = main, address = \"127.0.0.1:"
                          + edgeTls
                          + "\" }, { name = web, address = \"127.0.0.1:"
                          + edgeHttp
                          + "\", protocol = http } ]",
                      String.format(
                          """
                          routes = [
                            { hosts = ["tenant.test"], mode = passthrough, pool = tenant-tls,
                              http-pool = tenant-http }
                          ]
                          pools {
                            tenant-tls { servers = ["127.0.0.1:%d"] }
                            tenant-http { servers = ["127.0.0.1:%d"] }
                          }
                          """,
                          tenantTls, tenantHttp)));
          TollgateFixture.await(
              () -> "valid".equals(status(tenantEdge, "tenant.test").get("state")),
              BOUND,
              describe(tenantEdge));
          // The tenant answered its own challenge; the edge only relayed it.
          CloseReason answered =
              challenge.equals("http-01")
                  ? CloseReason.HTTP_CHALLENGE_ANSWERED
                  : CloseReason.ACME_CHALLENGE;
          assertThat(tenantEdge.metrics().closedCount(answered)).isGreaterThanOrEqualTo(1);
          assertThat(edge.metrics().closedCount(answered)).isZero();
          TollgateFixture.await(
              () -> {
                try {
                  fetch(edgeTls, "tenant.test", pebble.issuedRoots());
                  return true;
                } catch (Exception e) {
                  return false; // the tenant swaps its new contexts in just after "valid"
                }
              },
              BOUND,
              describe(tenantEdge));
          X509Certificate served = fetch(edgeTls, "tenant.test", pebble.issuedRoots());
          assertThat(served.getSubjectAlternativeNames().toString()).contains("tenant.test");
        });
  }

  /**
   * {@code key-type = both}: an ECDSA and an RSA certificate are ordered for the route, and each
   * client gets the one it can use (TLS 1.2 suites pick the key type).
   */
  @Test
  void keyTypeBothServesEcdsaAndRsaCertificates() throws Exception {
    assertTimeoutPreemptively(
        Duration.ofSeconds(180),
        () -> {
          int port = FreePorts.next();
          PebbleServer pebble =
              add(
                  PebbleServer.start(
                      dir.resolve("pebble"), new PebbleServer.Options(port, FreePorts.next())));
          TollgateFixture t =
              add(
                  tollgate(
                      port,
                      config(pebble.directory(), pebble.httpsCa().toString(), "", "")
                          .replace(
                              "challenge = tls-alpn-01",
                              "challenge = tls-alpn-01\n" + "key-type = both")));
          TollgateFixture.await(
              () ->
                  keyAlgorithm(port, pebble, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256").equals("EC")
                      && keyAlgorithm(port, pebble, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")
                          .equals("RSA"),
              BOUND,
              describe(t));
          assertThat(status(t, "shop.test").get("state")).isEqualTo("valid");
        });
  }

  /** The key algorithm of the certificate a TLS 1.2 client offering only {@code suite} gets. */
  private static String keyAlgorithm(int port, PebbleServer pebble, String suite) {
    try {
      TlsTestClient.Handshake h =
          TlsTestClient.to(port)
              .sni("shop.test")
              .protocols("TLSv1.2")
              .ciphers(suite)
              .trust(pebble.issuedRoots())
              .handshake();
      return h.success() ? h.peerKeyAlgorithm() : "none: " + h.failure();
    } catch (Exception e) {
      return "none: " + e;
    }
  }

  /**
   * The expiry sample of shop.test's ACME certificate: labelled with its file and its first DNS
   * name, which is either of the route's two names (the CA orders them as it likes).
   */
  private static boolean shopExpiry(PrometheusText.Sample s) {
    return s.name().equals("tollgate_certificate_expiry_seconds")
        && s.labels().get("file").contains("shop.test")
        && List.of("shop.test", "www.shop.test").contains(s.labels().get("name"));
  }
}
