package io.tollgate.tls;

import static io.tollgate.tls.TlsFixtures.INTERMEDIATE;
import static io.tollgate.tls.TlsFixtures.config;
import static io.tollgate.tls.TlsFixtures.files;
import static io.tollgate.tls.TlsFixtures.offload;
import static io.tollgate.tls.TlsFixtures.trusting;
import static io.tollgate.tls.TlsFixtures.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.OpenSslSessionContext;
import io.tollgate.config.CertificateFiles;
import io.tollgate.config.ConfigError;
import io.tollgate.config.TlsConfig;
import io.tollgate.pki.CertificateAuthority.KeyType;
import io.tollgate.pki.IssuedCertificate;
import io.tollgate.testkit.TlsTestClient;
import io.tollgate.tls.TlsFixtures.Built;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Session tickets shared through a key file, OCSP stapling, and what the JDK fallback says. */
class ServerTlsResumptionAndStaplingTest {
  @TempDir static Path dir;
  static IssuedCertificate shop;
  static CertificateFiles shopFiles;

  @BeforeAll
  static void certificates() {
    shop = INTERMEDIATE.issue(KeyType.EC_P256, "shop.test");
    shopFiles = write(shop, dir, "shop");
  }

  private static Built load(String provider, TlsConfig tls, CertificateFiles files) {
    Built built =
        Providers.with(
            provider,
            () ->
                TlsFixtures.build(
                    config(trusting(dir), tls, List.of(offload(files(files), "shop.test")))));
    return built.assertNoErrors();
  }

  private static TlsConfig withKeys(Path keys) {
    return new TlsConfig(true, Optional.of(keys), 1000, Duration.ofMinutes(5));
  }

  private static Path keyFile(String name, String... lines) {
    return TlsFixtures.ownerOnly(
        TlsFixtures.writeString(dir.resolve(name), String.join("\n", lines) + "\n"));
  }

  private static OpenSslSessionContext sessions(Built built) {
    RouteServerTls tls = (RouteServerTls) built.material().serverTls("shop.test");
    return (OpenSslSessionContext) tls.sslContext("shop.test", true).sessionContext();
  }

  /** Connects, reads the greeting (and with it the TLS 1.3 tickets), closes. */
  private static void visit(ServerTlsHarness server, SSLContext client) throws IOException {
    server.sni = "shop.test";
    try (SSLSocket socket =
        TlsFixtures.client(server.port()).sni("shop.test").context(client).connect()) {
      assertThat(socket.getInputStream().read()).isEqualTo('h');
    }
  }

  @Test
  void sessionsResumeAcrossInstancesSharingTheTicketKeyFile() throws Exception {
    assumeTrue(OpenSsl.isAvailable(), "BoringSSL not available");
    Path shared = keyFile("shared.keys", "# current", TicketKeysTest.key(7), TicketKeysTest.key(8));
    Path rotated = keyFile("rotated.keys", TicketKeysTest.key(9), TicketKeysTest.key(7));
    Path unrelated = keyFile("other.keys", TicketKeysTest.key(5));
    Built first = load(Providers.OPENSSL, withKeys(shared), shopFiles);
    Built second = load(Providers.OPENSSL, withKeys(shared), shopFiles);
    Built afterRotation = load(Providers.OPENSSL, withKeys(rotated), shopFiles);
    Built stranger = load(Providers.OPENSSL, withKeys(unrelated), shopFiles);

    SSLContext client = TlsTestClient.context(null, TlsFixtures.ROOT.trustManagers());
    int port;
    try (ServerTlsHarness a = new ServerTlsHarness(first.material().serverTls("shop.test"))) {
      port = a.port();
      visit(a, client);
    }
    assertThat(sessions(first).stats().ticketKeyNew()).isPositive();
    // The JDK client keys its session cache by host and port: each instance in turn on one port.
    try (ServerTlsHarness b =
        new ServerTlsHarness(second.material().serverTls("shop.test"), port)) {
      visit(b, client);
    }
    assertThat(sessions(second).stats().ticketKeyResume())
        .as("a ticket from the first instance resumes on the second")
        .isEqualTo(1);
    // The rotated file still decrypts with its second (previous) key; BoringSSL counts that as a
    // "renew": it resumes and issues a new ticket under the current key.
    try (ServerTlsHarness c =
        new ServerTlsHarness(afterRotation.material().serverTls("shop.test"), port)) {
      visit(c, client);
    }
    assertThat(sessions(afterRotation).stats().ticketKeyRenew()).isEqualTo(1);
    assertThat(sessions(afterRotation).stats().ticketKeyFail()).isZero();
    try (ServerTlsHarness d =
        new ServerTlsHarness(stranger.material().serverTls("shop.test"), port)) {
      visit(d, client);
    }
    assertThat(sessions(stranger).stats().ticketKeyResume()).isZero();
    assertThat(sessions(stranger).stats().ticketKeyRenew()).isZero();
  }

  @Test
  void withTicketsOffTls12ResumesFromTheSessionCacheAndTls13IssuesNoTicket() throws Exception {
    assumeTrue(OpenSsl.isAvailable(), "BoringSSL not available");
    Built built =
        load(
            Providers.OPENSSL,
            new TlsConfig(false, Optional.empty(), 100, Duration.ofMinutes(5)),
            shopFiles);
    SSLContext client = TlsTestClient.context(null, TlsFixtures.ROOT.trustManagers());
    try (ServerTlsHarness server = new ServerTlsHarness(built.material().serverTls("shop.test"))) {
      server.sni = "shop.test";
      List<String> ids = new java.util.ArrayList<>();
      for (String protocol : List.of("TLSv1.2", "TLSv1.2", "TLSv1.3")) {
        try (SSLSocket socket =
            TlsFixtures.client(server.port())
                .sni("shop.test")
                .context(client)
                .protocols(protocol)
                .connect()) {
          assertThat(socket.getInputStream().read()).isEqualTo('h');
          ids.add(java.util.HexFormat.of().formatHex(socket.getSession().getId()));
        }
      }
      // Netty keeps the server session cache in Java: BoringSSL's own counters (hits, accept)
      // stay 0, so resumption shows as the client getting its session back.
      assertThat(ids.get(1)).as("TLS 1.2 resumed by session id").isEqualTo(ids.get(0));
    }
    // BoringSSL resumes TLS 1.3 with tickets only: none issued, none to resume with.
    assertThat(sessions(built).stats().ticketKeyNew()).isZero();
  }

  @Test
  void ocspResponseBesideTheChainIsStapled() throws Exception {
    assumeTrue(OpenSsl.isAvailable(), "BoringSSL not available");
    byte[] response = OcspResponses.good(shop.certificate(), INTERMEDIATE.certificate(), shop);
    Path stapledDir = Files.createDirectories(dir.resolve("stapled"));
    CertificateFiles files = write(shop, stapledDir, "shop");
    Files.write(stapledDir.resolve("shop.pem.ocsp"), response);
    Built built = load(Providers.OPENSSL, TlsConfig.DEFAULTS, files);
    try (ServerTlsHarness server = new ServerTlsHarness(built.material().serverTls("shop.test"))) {
      server.sni = "shop.test";
      for (String protocol : List.of("TLSv1.3", "TLSv1.2")) {
        try (SSLSocket socket =
            TlsFixtures.client(server.port()).sni("shop.test").protocols(protocol).connect()) {
          List<byte[]> stapled = ((ExtendedSSLSession) socket.getSession()).getStatusResponses();
          assertThat(stapled).as(protocol).hasSize(1);
          assertThat(stapled.get(0)).isEqualTo(response);
        }
      }
    }
  }

  @Test
  void malformedOcspFileIsAnError() throws Exception {
    Path bad = TlsFixtures.writeString(dir.resolve("bad.ocsp"), "not DER");
    CertificateFiles files =
        new CertificateFiles(shopFiles.chain(), shopFiles.key(), Optional.of(bad));
    Built built = TlsFixtures.build(config(trusting(dir), offload(files(files), "shop.test")));
    assertThat(built.errors())
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.origin()).isEqualTo(bad.toString());
              assertThat(e.message()).contains("not a DER OCSP response");
            });
  }

  @Test
  void jdkProviderWarnsAboutWhatItCannotDo() throws Exception {
    byte[] response = OcspResponses.good(shop.certificate(), INTERMEDIATE.certificate(), shop);
    Path ocsp = dir.resolve("jdk.ocsp");
    Files.write(ocsp, response);
    Path keys = keyFile("jdk.keys", TicketKeysTest.key(1));
    CertificateFiles files =
        new CertificateFiles(shopFiles.chain(), shopFiles.key(), Optional.of(ocsp));
    Built built = load(Providers.JDK, withKeys(keys), files);
    assertThat(built.material().provider().isOpenSsl()).isFalse();
    assertThat(built.warnings())
        .extracting(ConfigError::origin)
        .containsExactlyInAnyOrder(keys.toString(), ocsp.toString());
    assertThat(built.warningText())
        .contains("shared session-ticket keys need the BoringSSL provider")
        .contains("not stapled");
  }

  @Test
  void unsupportedConfiguredCipherIsAnErrorListingIt() {
    for (String provider : Providers.available()) {
      Built built =
          Providers.with(
              provider,
              () ->
                  TlsFixtures.build(
                      config(
                          trusting(dir),
                          offload(
                              TlsFixtures.withCiphers(
                                  files(shopFiles),
                                  List.of(
                                      "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
                                      "TLS_MADE_UP_CIPHER")),
                              "shop.test"))));
      assertThat(built.errors())
          .as(provider)
          .singleElement()
          .satisfies(
              e -> {
                assertThat(e.path()).isEqualTo("tollgate.routes[0].ciphers");
                assertThat(e.message()).contains(": TLS_MADE_UP_CIPHER (");
              });
    }
  }
}
