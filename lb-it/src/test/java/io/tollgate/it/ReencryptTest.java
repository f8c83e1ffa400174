package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;

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
import java.util.List;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reencrypt: Tollgate terminates the client's TLS, then opens a new TLS connection to the backend
 * that it verifies against the pool's CA, with SNI, mirroring the client's ALPN, optionally with
 * its own client certificate.
 */
class ReencryptTest {
  @TempDir static Path dir;
  private static CertificateAuthority edgeCa;
  @RegisterExtension static final ClassResources resources = new ClassResources();
  private static TlsTestServer internal;
  private static TlsTestServer sameName;
  private static TlsTestServer mutual;
  private static TollgateFixture tollgate;

  @BeforeAll
  static void start() throws Exception {
    edgeCa = CertificateAuthority.create("Edge CA", KeyType.EC_P256);
    edgeCa.writeCertificatePem(dir.resolve("edge-ca.pem"));
    CertificateAuthority backendCa = CertificateAuthority.create("Backend CA", KeyType.RSA_2048);
    backendCa.writeCertificatePem(dir.resolve("backend-ca.pem"));
    CertificateAuthority otherCa = CertificateAuthority.create("Other CA", KeyType.EC_P256);
    otherCa.writeCertificatePem(dir.resolve("other-ca.pem"));
    CertificateAuthority lbClientCa = CertificateAuthority.create("LB client CA", KeyType.EC_P256);
    lbClientCa.issue(KeyType.EC_P256, "tollgate.internal").writePem(dir, "lb-client");
    // Both private roots end chains Tollgate presents, so both are trusted roots of its own.
    Files.writeString(
        dir.resolve("roots.pem"),
        Files.readString(edgeCa.writeCertificatePem(dir.resolve("edge-root.pem")))
            + Files.readString(lbClientCa.writeCertificatePem(dir.resolve("lb-root.pem"))));
    edgeCa
        .issue(
            KeyType.EC_P256,
            "api.test",
            "same.test",
            "wrong-ca.test",
            "wrong-name.test",
            "insecure.test",
            "mutual.test")
        .writePem(dir, "edge");

    internal =
        resources.add(
            TlsTestServer.start(
                backendCa.issue(KeyType.EC_P256, "api.internal"),
                null,
                s -> {
                  SSLParameters p = s.getSSLParameters();
                  p.setApplicationProtocols(new String[] {"h2", "http/1.1"});
                  s.setSSLParameters(p);
                },
                socket -> {
                  SSLSocket tls = (SSLSocket) socket;
                  OutputStream out = tls.getOutputStream();
                  out.write(
                      ("internal alpn=" + tls.getApplicationProtocol() + "\n")
                          .getBytes(StandardCharsets.UTF_8));
                  out.flush();
                  tls.getInputStream().read();
                }));
    sameName =
        resources.add(
            TlsTestServer.start(
                backendCa.issue(KeyType.EC_P256, "same.test"), TlsTestServer.greet("same")));
    mutual =
        resources.add(
            TlsTestServer.start(
                backendCa.issue(KeyType.EC_P256, "mutual.internal"),
                lbClientCa,
                s -> s.setNeedClientAuth(true),
                TlsTestServer.greet("mutual")));

    tollgate =
        resources.add(
            TollgateFixture.startIn(
                dir,
                String.format(
                    """
        certificates { trusted-roots = "roots.pem" }
        routes = [
          { hosts = ["api.test"], mode = reencrypt, pool = api, alpn = ["h2", "http/1.1"],
            certificate { chain = "edge.pem", key = "edge.key" } }
          { hosts = ["same.test"], mode = reencrypt, pool = same,
            certificate { chain = "edge.pem", key = "edge.key" } }
          { hosts = ["wrong-ca.test"], mode = reencrypt, pool = wrongca,
            certificate { chain = "edge.pem", key = "edge.key" } }
          { hosts = ["wrong-name.test"], mode = reencrypt, pool = wrongname,
            certificate { chain = "edge.pem", key = "edge.key" } }
          { hosts = ["insecure.test"], mode = reencrypt, pool = insecure,
            certificate { chain = "edge.pem", key = "edge.key" } }
          { hosts = ["mutual.test"], mode = reencrypt, pool = mutual,
            certificate { chain = "edge.pem", key = "edge.key" } }
        ]
        pools {
          api { servers = ["127.0.0.1:%1$d"],
                tls { ca = "backend-ca.pem", server-name = "api.internal" } }
          same { servers = ["127.0.0.1:%2$d"], tls { ca = "backend-ca.pem" } }
          wrongca { servers = ["127.0.0.1:%1$d"],
                    tls { ca = "other-ca.pem", server-name = "api.internal" } }
          wrongname { servers = ["127.0.0.1:%1$d"],
                      tls { ca = "backend-ca.pem", server-name = "not-api.internal" } }
          insecure { servers = ["127.0.0.1:%1$d"],
                     tls { ca = "other-ca.pem", verify = false } }
          mutual { servers = ["127.0.0.1:%3$d"],
                   tls { ca = "backend-ca.pem", server-name = "mutual.internal",
                         certificate { chain = "lb-client.pem", key = "lb-client.key" } } }
        }
        """,
                    internal.port(), sameName.port(), mutual.port())));
  }

  @Test
  void verifiedBackendWithConfiguredServerNameAndMirroredAlpn() throws Exception {
    TlsTestClient h2 =
        TlsTestClient.to(tollgate.port()).trust(edgeCa.trustManagers()).alpn("h2", "http/1.1");
    assertThat(h2.sni("api.test").handshake().alpn()).isEqualTo("h2");
    int before = internal.serverNames().size();
    try (TlsTestClient.Connection c = TlsTestClient.connect(tollgate.port(), "api.test", edgeCa)) {
      // The JDK client offers no ALPN, so Tollgate offers none to the backend either.
      assertThat(firstLine(c.socket())).isEqualTo("internal alpn=");
    }
    // Every handshake the backend saw carried the pool's server-name, never the client's SNI.
    assertThat(internal.serverNames().subList(before, internal.serverNames().size()))
        .isNotEmpty()
        .containsOnly("api.internal");
  }

  @Test
  void backendSeesTheAlpnProtocolTheClientNegotiated() throws Exception {
    for (String protocol : List.of("h2", "http/1.1")) {
      try (SSLSocket s = alpnClient("api.test", protocol)) {
        assertThat(firstLine(s)).isEqualTo("internal alpn=" + protocol);
      }
    }
  }

  @Test
  void serverNameDefaultsToTheClientsSni() throws Exception {
    try (TlsTestClient.Connection c = TlsTestClient.connect(tollgate.port(), "same.test", edgeCa)) {
      assertThat(firstLine(c.socket())).isEqualTo("same");
    }
    assertThat(sameName.serverNames()).contains("same.test");
  }

  @Test
  void wrongCaOrWrongNameEndsWithBackendVerifyFailed() throws Exception {
    long before = tollgate.metrics().closedCount(CloseReason.BACKEND_VERIFY_FAILED);
    for (String name : List.of("wrong-ca.test", "wrong-name.test")) {
      try (TlsTestClient.Connection c = TlsTestClient.connect(tollgate.port(), name, edgeCa)) {
        // The client's own handshake with Tollgate succeeded; then Tollgate closes.
        assertThat(c.socket().getInputStream().read()).as(name).isEqualTo(-1);
      }
    }
    tollgate.awaitClosed(CloseReason.BACKEND_VERIFY_FAILED, before + 2);
  }

  @Test
  void verifyOffIsAnExplicitChoiceThatWorksAndWarns() throws Exception {
    try (TlsTestClient.Connection c =
        TlsTestClient.connect(tollgate.port(), "insecure.test", edgeCa)) {
      assertThat(firstLine(c.socket())).startsWith("internal");
    }
    assertThat(tollgate.tollgate().snapshot().warnings())
        .anySatisfy(w -> assertThat(w.path()).contains("pools.insecure.tls"));
  }

  @Test
  void clientCertificateTowardTheBackend() throws Exception {
    try (TlsTestClient.Connection c =
        TlsTestClient.connect(tollgate.port(), "mutual.test", edgeCa)) {
      assertThat(firstLine(c.socket())).isEqualTo("mutual");
    }
  }

  private static SSLSocket alpnClient(String name, String protocol) throws Exception {
    SSLSocket socket =
        (SSLSocket)
            edgeCa
                .clientContext()
                .getSocketFactory()
                .createSocket(InetAddress.getLoopbackAddress(), tollgate.port());
    socket.setSoTimeout(10_000);
    SSLParameters parameters = CertificateAuthority.clientParameters(name);
    parameters.setApplicationProtocols(new String[] {protocol});
    socket.setSSLParameters(parameters);
    socket.startHandshake();
    assertThat(socket.getApplicationProtocol()).isEqualTo(protocol);
    return socket;
  }

  private static String firstLine(Socket socket) throws Exception {
    return new BufferedReader(
            new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8))
        .readLine();
  }
}
