package io.tollgate.tls;

import static io.tollgate.tls.TlsFixtures.INTERMEDIATE;
import static io.tollgate.tls.TlsFixtures.ROOT;
import static io.tollgate.tls.TlsFixtures.auto;
import static io.tollgate.tls.TlsFixtures.config;
import static io.tollgate.tls.TlsFixtures.files;
import static io.tollgate.tls.TlsFixtures.offload;
import static io.tollgate.tls.TlsFixtures.write;
import static io.tollgate.tls.TlsFixtures.writeBundle;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tollgate.config.CertificateFiles;
import io.tollgate.config.CertificatesConfig;
import io.tollgate.config.ClientAuth;
import io.tollgate.config.RouteConfig;
import io.tollgate.config.ServerTlsConfig;
import io.tollgate.pki.CertificateAuthority.KeyType;
import io.tollgate.pki.IssuedCertificate;
import io.tollgate.testkit.TlsTestClient;
import io.tollgate.tls.TlsFixtures.Built;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Real handshakes over loopback: a JDK client against the handlers {@link ServerTls} makes, with
 * each provider (BoringSSL when it loads here, and the JDK fallback).
 */
class ServerTlsHandshakeTest {
  @TempDir static Path dir;
  static CertificateFiles shopEc;
  static CertificateFiles shopRsa;
  static CertificateFiles blog;
  static Path store;

  @BeforeAll
  static void certificates() throws IOException {
    shopEc = write(INTERMEDIATE.issue(KeyType.EC_P256, "shop.test"), dir, "shop-ec");
    shopRsa = write(INTERMEDIATE.issue(KeyType.RSA_2048, "shop.test"), dir, "shop-rsa");
    blog = write(INTERMEDIATE.issue(KeyType.EC_P256, "blog.test"), dir, "blog");
    store = Files.createDirectories(dir.resolve("store"));
    writeBundle(INTERMEDIATE.issue(KeyType.EC_P256, "*.apps.test"), store, "apps");
    writeBundle(INTERMEDIATE.issue(KeyType.RSA_2048, "api.apps.test"), store, "api");
  }

  static List<String> providers() {
    return Providers.available();
  }

  private static Built load(String provider, RouteConfig... routes) {
    CertificatesConfig certificates =
        new CertificatesConfig(Optional.of(store), Optional.of(TlsFixtures.rootsPem(dir)));
    Built built = Providers.with(provider, () -> TlsFixtures.build(config(certificates, routes)));
    built.assertNoErrors();
    assertThat(built.material().provider().isOpenSsl())
        .isEqualTo(provider.equals(Providers.OPENSSL));
    return built;
  }

  private static String readLine(SSLSocket socket) throws IOException {
    InputStream in = socket.getInputStream();
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    for (int b; (b = in.read()) != -1 && b != '\n'; ) {
      line.write(b);
    }
    return line.toString(StandardCharsets.US_ASCII);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("providers")
  void eachRoutePresentsTheCertificateForItsName(String provider) throws Exception {
    Built built =
        load(
            provider,
            offload(files(shopEc), "shop.test"),
            offload(files(blog), "blog.test"),
            offload(auto(), "*.apps.test"));
    for (String[] c :
        new String[][] {
          {"shop.test", "shop.test", "shop.test"},
          {"blog.test", "blog.test", "blog.test"},
          {"*.apps.test", "x.apps.test", "*.apps.test"},
          {"*.apps.test", "api.apps.test", "api.apps.test"}
        }) {
      try (ServerTlsHarness server = new ServerTlsHarness(built.material().serverTls(c[0]))) {
        server.sni = c[1];
        try (SSLSocket socket = TlsFixtures.client(server.port()).sni(c[1]).connect()) {
          assertThat(TlsTestClient.dnsNames(TlsTestClient.peer(socket))).containsExactly(c[2]);
          assertThat(socket.getSession().getPeerCertificates()).hasSize(2);
          assertThat(socket.getSession().getPeerCertificates()[1])
              .isEqualTo(INTERMEDIATE.certificate());
          assertThat(readLine(socket)).isEqualTo("hello");
        }
        assertThat(server.nextOutcome().success()).isTrue();
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("providers")
  void ecdsaForClientsThatSupportItElseRsa(String provider) throws Exception {
    Built built = load(provider, offload(files(shopRsa, shopEc), "shop.test"));
    try (ServerTlsHarness server = new ServerTlsHarness(built.material().serverTls("shop.test"))) {
      server.sni = "shop.test";
      server.clientSupportsEcdsa = true;
      try (SSLSocket socket = TlsFixtures.client(server.port()).sni("shop.test").connect()) {
        assertThat(TlsTestClient.peer(socket).getPublicKey().getAlgorithm()).isEqualTo("EC");
      }
      server.clientSupportsEcdsa = false;
      try (SSLSocket socket = TlsFixtures.client(server.port()).sni("shop.test").connect()) {
        assertThat(TlsTestClient.peer(socket).getPublicKey().getAlgorithm()).isEqualTo("RSA");
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("providers")
  void tls11IsRefusedWithAProtocolVersionAlert(String provider) throws Exception {
    Built built = load(provider, offload(files(shopEc, shopRsa), "shop.test"));
    try (ServerTlsHarness server = new ServerTlsHarness(built.material().serverTls("shop.test"));
        Socket socket = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
      server.sni = "shop.test";
      socket.setSoTimeout(5_000);
      socket.getOutputStream().write(RawHellos.tls11("shop.test"));
      byte[] response = socket.getInputStream().readNBytes(7);
      assertThat(response).hasSize(7);
      assertThat(response[0]).as("record type alert").isEqualTo((byte) 21);
      assertThat(response[5]).as("fatal").isEqualTo((byte) 2);
      assertThat(response[6]).as("protocol_version").isEqualTo((byte) 70);
      assertThat(server.nextOutcome().success()).isFalse();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("providers")
  void weakTls12CiphersAreRefusedStrongOnesWork(String provider) throws Exception {
    Built built = load(provider, offload(files(shopEc, shopRsa), "shop.test"));
    try (ServerTlsHarness server = new ServerTlsHarness(built.material().serverTls("shop.test"))) {
      server.sni = "shop.test";
      for (String weak :
          List.of(
              "TLS_RSA_WITH_AES_128_GCM_SHA256", // no forward secrecy
              "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", // CBC
              "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA")) {
        assertThatThrownBy(
                () ->
                    TlsFixtures.client(server.port())
                        .sni("shop.test")
                        .protocols("TLSv1.2")
                        .ciphers(weak)
                        .connect()
                        .close())
            .as(weak)
            .isInstanceOf(SSLException.class);
        assertThat(server.nextOutcome().success()).isFalse();
      }
      server.clientSupportsEcdsa = false;
      try (SSLSocket socket =
          TlsFixtures.client(server.port())
              .sni("shop.test")
              .protocols("TLSv1.2")
              .ciphers("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256")
              .connect()) {
        assertThat(socket.getSession().getProtocol()).isEqualTo("TLSv1.2");
        assertThat(socket.getSession().getCipherSuite())
            .isEqualTo("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");
      }
      try (SSLSocket socket = TlsFixtures.client(server.port()).sni("shop.test").connect()) {
        assertThat(socket.getSession().getProtocol()).isEqualTo("TLSv1.3");
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("providers")
  void alpnPicksTheRoutesPreferenceAndContinuesWithoutOnNoOverlap(String provider)
      throws Exception {
    ServerTlsConfig tls = TlsFixtures.withAlpn(files(shopEc), List.of("h2", "http/1.1"));
    ServerTlsConfig none = TlsFixtures.withAlpn(files(blog), List.of());
    Built built = load(provider, offload(tls, "shop.test"), offload(none, "blog.test"));
    try (ServerTlsHarness server = new ServerTlsHarness(built.material().serverTls("shop.test"))) {
      server.sni = "shop.test";
      try (SSLSocket socket =
          TlsFixtures.client(server.port()).sni("shop.test").alpn("http/1.1", "h2").connect()) {
        assertThat(socket.getApplicationProtocol()).isEqualTo("h2");
      }
      assertThat(server.nextOutcome().alpn()).isEqualTo("h2");
      try (SSLSocket socket =
          TlsFixtures.client(server.port()).sni("shop.test").alpn("http/1.1").connect()) {
        assertThat(socket.getApplicationProtocol()).isEqualTo("http/1.1");
      }
      assertThat(server.nextOutcome().alpn()).isEqualTo("http/1.1");
      try (SSLSocket socket =
          TlsFixtures.client(server.port()).sni("shop.test").alpn("spdy/3").connect()) {
        assertThat(socket.getApplicationProtocol()).isEmpty();
        assertThat(readLine(socket)).isEqualTo("hello");
      }
      assertThat(server.nextOutcome().alpn()).isNull();
    }
    try (ServerTlsHarness server = new ServerTlsHarness(built.material().serverTls("blog.test"))) {
      server.sni = "blog.test";
      try (SSLSocket socket =
          TlsFixtures.client(server.port()).sni("blog.test").alpn("http/1.1").connect()) {
        assertThat(socket.getApplicationProtocol()).isEmpty();
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("providers")
  void requiredClientCertificate(String provider) throws Exception {
    Path clientCa = ROOT.writeCertificatePem(dir.resolve("clients-ca.pem"));
    ServerTlsConfig tls =
        TlsFixtures.withClientAuth(
            files(shopEc), new ClientAuth(ClientAuth.Mode.REQUIRE, clientCa));
    Built built = load(provider, offload(tls, "shop.test"));
    IssuedCertificate client = INTERMEDIATE.issue(KeyType.EC_P256, "client.test");
    try (ServerTlsHarness server = new ServerTlsHarness(built.material().serverTls("shop.test"))) {
      server.sni = "shop.test";
      // TLS 1.3: the client's handshake ends before the server has checked it; the refusal
      // arrives as an alert on the first read.
      assertThatThrownBy(
              () -> {
                try (SSLSocket socket =
                    TlsFixtures.client(server.port()).sni("shop.test").connect()) {
                  readLine(socket);
                }
              })
          .isInstanceOf(SSLException.class);
      assertThat(server.nextOutcome().success()).isFalse();

      try (SSLSocket socket =
          TlsFixtures.client(server.port())
              .sni("shop.test")
              .context(TlsTestClient.context(client.keyManagers(), ROOT.trustManagers()))
              .connect()) {
        assertThat(readLine(socket)).isEqualTo("hello");
      }
      assertThat(server.nextOutcome().success()).isTrue();
    }
  }
}
