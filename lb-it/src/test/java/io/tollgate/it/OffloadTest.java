package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tollgate.connection.CloseReason;
import io.tollgate.pki.CertificateAuthority;
import io.tollgate.pki.CertificateAuthority.KeyType;
import io.tollgate.pki.IssuedCertificate;
import io.tollgate.testkit.TlsTestClient;
import io.tollgate.testkit.TlsTestServer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * One listener serving a passthrough tenant and several offloaded host names: each client sees the
 * right certificate for its name, plaintext reaches the offload backends, TLS reaches the
 * passthrough backend unchanged, and the TLS policy (versions, suites, ALPN, ECDSA/RSA choice,
 * client certificates, certificate = auto) holds.
 */
class OffloadTest {
  @TempDir static Path dir;
  private static CertificateAuthority ca;
  private static CertificateAuthority clientCa;
  private static IssuedCertificate passCert;
  @RegisterExtension static final ClassResources resources = new ClassResources();
  private static TollgateFixture tollgate;

  @BeforeAll
  static void start() throws Exception {
    ca = CertificateAuthority.create("Tollgate Offload IT CA", KeyType.EC_P256);
    ca.writeCertificatePem(dir.resolve("ca.pem"));
    clientCa = CertificateAuthority.create("Tollgate Client CA", KeyType.EC_P256);
    clientCa.writeCertificatePem(dir.resolve("clients-ca.pem"));
    ca.issue(KeyType.EC_P256, "shop.test").writePem(dir, "shop-ec");
    ca.issue(KeyType.RSA_2048, "shop.test").writePem(dir, "shop-rsa");
    ca.issue(KeyType.RSA_2048, "blog.test").writePem(dir, "blog");
    ca.issue(KeyType.EC_P256, "mtls.test").writePem(dir, "mtls");
    Path store = dir.resolve("certs");
    ca.issue(KeyType.EC_P256, "*.auto.test").writePem(store, "wildcard-auto");
    ca.issue(KeyType.EC_P256, "exact.auto.test").writePem(store, "exact-auto");
    passCert = ca.issue(KeyType.EC_P256, "pass.test");

    TlsTestServer shop = resources.add(TlsTestServer.startPlain(TlsTestServer.greet("shop-plain")));
    TlsTestServer blog = resources.add(TlsTestServer.startPlain(TlsTestServer.greet("blog-plain")));
    TlsTestServer mtls = resources.add(TlsTestServer.startPlain(TlsTestServer.greet("mtls-plain")));
    TlsTestServer auto = resources.add(TlsTestServer.startPlain(TlsTestServer.greet("auto-plain")));
    TlsTestServer pass =
        resources.add(TlsTestServer.start(passCert, TlsTestServer.greet("pass-tls")));
    tollgate =
        resources.add(
            TollgateFixture.startIn(
                dir,
                String.format(
                    """
        certificates { directory = "certs", trusted-roots = "ca.pem" }
        timeouts { handshake = 1s }
        routes = [
          { hosts = ["pass.test"], mode = passthrough, pool = pass }
          { hosts = ["shop.test"], mode = offload, pool = shop,
            certificate = [ { chain = "shop-ec.pem", key = "shop-ec.key" },
                            { chain = "shop-rsa.pem", key = "shop-rsa.key" } ] }
          { hosts = ["blog.test"], mode = offload, pool = blog, alpn = ["h2", "http/1.1"],
            certificate { chain = "blog.pem", key = "blog.key" } }
          { hosts = ["mtls.test"], mode = offload, pool = mtls,
            certificate { chain = "mtls.pem", key = "mtls.key" },
            client-auth { mode = require, ca = "clients-ca.pem" } }
          { hosts = ["exact.auto.test", "*.auto.test"], mode = offload, pool = auto,
            certificate = auto }
        ]
        pools {
          pass { servers = ["127.0.0.1:%d"] }
          shop { servers = ["127.0.0.1:%d"] }
          blog { servers = ["127.0.0.1:%d"] }
          mtls { servers = ["127.0.0.1:%d"] }
          auto { servers = ["127.0.0.1:%d"] }
        }
        """,
                    pass.port(), shop.port(), blog.port(), mtls.port(), auto.port())));
  }

  @Test
  void eachNameGetsItsOwnCertificateAndPlaintextReachesItsBackend() throws Exception {
    assertThat(exchange("shop.test")).isEqualTo("shop-plain");
    assertThat(exchange("blog.test")).isEqualTo("blog-plain");
    try (TlsTestClient.Connection c = TlsTestClient.connect(tollgate.port(), "blog.test", ca)) {
      assertThat(c.peerDnsNames()).containsExactly("blog.test");
      assertThat(c.peerCertificate().getIssuerX500Principal())
          .isEqualTo(ca.certificate().getSubjectX500Principal());
    }
  }

  @Test
  void passthroughTenantOnTheSameListenerStillSeesTheBackendsOwnTls() throws Exception {
    try (TlsTestClient.Connection c = TlsTestClient.connect(tollgate.port(), "pass.test", ca)) {
      // The very certificate object the backend holds: Tollgate did not terminate.
      assertThat(c.peerCertificate()).isEqualTo(passCert.certificate());
      assertThat(firstLine(c.socket())).isEqualTo("pass-tls");
    }
  }

  @Test
  void echoRoundTripThroughOffloadIsPlaintextAtTheBackend() throws Exception {
    try (TlsTestClient.Connection c = TlsTestClient.connect(tollgate.port(), "shop.test", ca)) {
      BufferedReader in = reader(c.socket());
      assertThat(in.readLine()).isEqualTo("shop-plain");
      OutputStream out = c.socket().getOutputStream();
      out.write("GET / HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      // The plain backend echoes what it read: it could only do so if it received plaintext.
      assertThat(in.readLine()).isEqualTo("GET / HTTP/1.1");
    }
  }

  @Test
  void ecdsaCapableClientsGetTheEcdsaCertificateOthersRsa() throws Exception {
    TlsTestClient probe = TlsTestClient.to(tollgate.port()).trust(ca.trustManagers());
    assertThat(probe.sni("shop.test").handshake().peerKeyAlgorithm()).isEqualTo("EC");
    TlsTestClient rsaOnly =
        TlsTestClient.to(tollgate.port())
            .trust(ca.trustManagers())
            .protocols("TLSv1.2")
            .ciphers("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
    TlsTestClient.Handshake rsa = rsaOnly.sni("shop.test").handshake();
    assertThat(rsa.success()).as("%s", rsa.failure()).isTrue();
    assertThat(rsa.peerKeyAlgorithm()).isEqualTo("RSA");
  }

  @Test
  void alpnIsNegotiatedFromTheRoutesList() throws Exception {
    TlsTestClient both =
        TlsTestClient.to(tollgate.port()).trust(ca.trustManagers()).alpn("h2", "http/1.1");
    assertThat(both.sni("shop.test").handshake().alpn()).isEqualTo("http/1.1");
    assertThat(both.sni("blog.test").handshake().alpn()).isEqualTo("h2");
    // No common protocol: the handshake continues without ALPN, as nginx does.
    TlsTestClient other =
        TlsTestClient.to(tollgate.port()).trust(ca.trustManagers()).alpn("spdy/3");
    TlsTestClient.Handshake none = other.sni("shop.test").handshake();
    assertThat(none.success()).as("%s", none.failure()).isTrue();
    assertThat(none.alpn()).isNull();
  }

  @Test
  void oldProtocolsAndWeakSuitesAreRefused() throws Exception {
    long before = tollgate.metrics().closedCount(CloseReason.HANDSHAKE_FAILED);
    for (String version : List.of("TLSv1", "TLSv1.1")) {
      TlsTestClient.Handshake old =
          TlsTestClient.to(tollgate.port())
              .trust(ca.trustManagers())
              .protocols(version)
              .ciphers("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA")
              .sni("shop.test")
              .handshake();
      assertThat(old.success()).as(version).isFalse();
    }
    for (String weak :
        List.of(
            "TLS_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
            "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA")) {
      TlsTestClient.Handshake result =
          TlsTestClient.to(tollgate.port())
              .trust(ca.trustManagers())
              .protocols("TLSv1.2")
              .ciphers(weak)
              .sni("shop.test")
              .handshake();
      assertThat(result.success()).as(weak).isFalse();
    }
    TollgateFixture.await(
        () -> tollgate.metrics().closedCount(CloseReason.HANDSHAKE_FAILED) >= before + 5,
        Duration.ofSeconds(10));
    assertThat(tollgate.metrics().closedCount(CloseReason.HANDSHAKE_FAILED) - before).isEqualTo(5);
  }

  @Test
  void certificateAutoPicksExactThenWildcardFromTheStore() throws Exception {
    try (TlsTestClient.Connection c =
        TlsTestClient.connect(tollgate.port(), "exact.auto.test", ca)) {
      assertThat(c.peerDnsNames()).containsExactly("exact.auto.test");
      assertThat(firstLine(c.socket())).isEqualTo("auto-plain");
    }
    try (TlsTestClient.Connection c =
        TlsTestClient.connect(tollgate.port(), "other.auto.test", ca)) {
      assertThat(c.peerDnsNames()).containsExactly("*.auto.test");
      assertThat(firstLine(c.socket())).isEqualTo("auto-plain");
    }
  }

  @Test
  void requiredClientCertificate() throws Exception {
    long before = tollgate.metrics().closedCount(CloseReason.HANDSHAKE_FAILED);
    // Without one: TLS 1.3 clients learn it at their first read, as an alert or a close.
    assertThatThrownBy(
            () -> {
              try (SSLSocket s = mtlsSocket(null)) {
                s.startHandshake();
                assertThat(s.getInputStream().read()).isEqualTo(-1);
                throw new AssertionError("closed without an alert");
              }
            })
        .isInstanceOf(java.io.IOException.class);
    TollgateFixture.await(
        () -> tollgate.metrics().closedCount(CloseReason.HANDSHAKE_FAILED) > before,
        Duration.ofSeconds(10));
    assertThat(tollgate.metrics().closedCount(CloseReason.HANDSHAKE_FAILED)).isEqualTo(before + 1);

    // A certificate from another CA is refused the same way.
    IssuedCertificate stranger = ca.issue(KeyType.EC_P256, "client.stranger");
    assertThatThrownBy(
            () -> {
              try (SSLSocket s = mtlsSocket(stranger)) {
                s.startHandshake();
                s.getInputStream().read();
              }
            })
        .isInstanceOf(java.io.IOException.class);

    IssuedCertificate client = clientCa.issue(KeyType.EC_P256, "client.test");
    try (SSLSocket s = mtlsSocket(client)) {
      assertThat(firstLine(s)).isEqualTo("mtls-plain");
    }
  }

  @Test
  void aClientThatStallsMidHandshakeIsClosedAfterTheHandshakeTimeout() throws Exception {
    long before = tollgate.metrics().closedCount(CloseReason.HANDSHAKE_TIMEOUT);
    try (java.net.Socket raw =
        new java.net.Socket(InetAddress.getLoopbackAddress(), tollgate.port())) {
      raw.setSoTimeout(10_000);
      raw.getOutputStream().write(JdkClientHello.forName("shop.test", List.of()));
      raw.getOutputStream().flush();
      // Tollgate answers with its flight, then waits for ours, which never comes.
      long started = System.nanoTime();
      java.io.InputStream in = raw.getInputStream();
      byte[] buffer = new byte[8192];
      while (in.read(buffer) != -1) {
        // drain until Tollgate closes
      }
      assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(8));
    }
    TollgateFixture.await(
        () -> tollgate.metrics().closedCount(CloseReason.HANDSHAKE_TIMEOUT) > before,
        Duration.ofSeconds(10));
    assertThat(tollgate.metrics().closedCount(CloseReason.HANDSHAKE_TIMEOUT)).isEqualTo(before + 1);
  }

  @Test
  void aClientThatEndsItsStreamRightBehindItsHelloIsEndedAsClosedNotTimedOut() throws Exception {
    // It can never send its Finished: ended when its FIN is read, as closed by the client.
    long closedBefore = tollgate.metrics().closedCount(CloseReason.CLIENT_CLOSED);
    long timedOutBefore = tollgate.metrics().closedCount(CloseReason.HANDSHAKE_TIMEOUT);
    try (java.net.Socket raw =
        new java.net.Socket(InetAddress.getLoopbackAddress(), tollgate.port())) {
      raw.setSoTimeout(10_000);
      raw.getOutputStream().write(JdkClientHello.forName("shop.test", List.of()));
      raw.shutdownOutput();
      java.io.InputStream in = raw.getInputStream();
      byte[] buffer = new byte[8192];
      long got = 0;
      for (int n; (n = in.read(buffer)) != -1; ) {
        got += n;
      }
      assertThat(got).as("Tollgate's flight came before its close").isPositive();
    }
    TollgateFixture.await(
        () -> tollgate.metrics().closedCount(CloseReason.CLIENT_CLOSED) > closedBefore,
        Duration.ofSeconds(10));
    assertThat(tollgate.metrics().closedCount(CloseReason.HANDSHAKE_TIMEOUT))
        .isEqualTo(timedOutBefore);
  }

  private static SSLSocket mtlsSocket(IssuedCertificate clientCert) throws Exception {
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(
        clientCert == null ? null : clientCert.keyManagers().getKeyManagers(),
        ca.trustManagers().getTrustManagers(),
        new SecureRandom());
    SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket();
    socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), tollgate.port()), 5000);
    socket.setSoTimeout(10_000);
    SSLParameters parameters = CertificateAuthority.clientParameters("mtls.test");
    parameters.setServerNames(List.of(new SNIHostName("mtls.test")));
    socket.setSSLParameters(parameters);
    return socket;
  }

  private static String exchange(String name) throws Exception {
    try (TlsTestClient.Connection c = TlsTestClient.connect(tollgate.port(), name, ca)) {
      assertThat(c.peerDnsNames()).contains(name);
      return firstLine(c.socket());
    }
  }

  private static BufferedReader reader(java.net.Socket socket) throws Exception {
    return new BufferedReader(
        new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
  }

  private static String firstLine(java.net.Socket socket) throws Exception {
    return reader(socket).readLine();
  }
}
