package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.tollgate.connection.CloseReason;
import io.tollgate.pki.CertificateAuthority;
import io.tollgate.pki.CertificateAuthority.KeyType;
import io.tollgate.proxyprotocol.ProxyHeaderEncoder;
import io.tollgate.testkit.CommandLineTools;
import io.tollgate.testkit.CommandLineTools.ProcessResult;
import io.tollgate.testkit.TlsTestClient;
import io.tollgate.testkit.TlsTestServer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 13's routing and access end to end, real JDK TLS clients and real backends over loopback:
 * routes bound to listeners (and what a name routed elsewhere gets), a listener's own default route
 * for a dedicated-IP tenant, an offload default route for clients without SNI, and allow-from /
 * deny-from on listeners and routes, also after a PROXY v2 header. A client's source address is
 * chosen by binding its socket to another loopback address (127.0.0.x).
 */
@Timeout(120)
class RoutingAndAccessTest {
  @TempDir static Path dir;
  private static CertificateAuthority ca;
  private static Path caPem;
  private static TlsTestServer tenantA;
  private static TlsTestServer tenantAOther;
  private static TlsTestServer tenantB;
  private static TlsTestServer shared;
  private static TlsTestServer fallback;
  private static TollgateFixture tollgate;

  @BeforeAll
  static void start() throws Exception {
    ca = CertificateAuthority.create("Tollgate routing IT CA", KeyType.EC_P256);
    caPem = ca.writeCertificatePem(dir.resolve("ca.pem"));
    ca.issue(KeyType.EC_P256, "b.test").writePem(dir, "b");
    ca.issue(KeyType.EC_P256, "vip-b.test").writePem(dir, "vip-b");
    ca.issue(KeyType.EC_P256, "default.test").writePem(dir, "default");
    // Tenant A is passthrough: its backends hold their own certificates.
    tenantA = TlsTestServer.start(ca.issue(KeyType.EC_P256, "a.test"), TlsTestServer.greet("a"));
    tenantAOther =
        TlsTestServer.start(ca.issue(KeyType.EC_P256, "c.test"), TlsTestServer.greet("c"));
    tenantB = TlsTestServer.startPlain(TlsTestServer.greet("tenant-b"));
    shared = TlsTestServer.startPlain(TlsTestServer.greet("shared"));
    fallback = TlsTestServer.startPlain(TlsTestServer.greet("default"));
    tollgate =
        TollgateFixture.startIn(
            dir,
            """
            [ { name = main, address = "127.0.0.1:0" }
              { name = vip-b, address = "127.0.0.2:0",
                default-route { mode = offload, pool = tenant-b,
                                certificate { chain = "vip-b.pem", key = "vip-b.key" } } }
              { name = guarded, address = "127.0.0.3:0",
                allow-from = ["127.0.0.0/29", "::1"], deny-from = ["127.0.0.6"] }
              { name = proxied, address = "127.0.0.4:0",
                proxy-protocol { mode = required, trusted = ["127.0.0.0/8"] },
                allow-from = ["203.0.113.0/24", "2001:db8::/32"] } ]""",
            String.format(
                """
                access-log.path = "access.log"
                routes = [
                  { hosts = ["a.test"], pool = tenant-a, listeners = [main] }
                  { hosts = ["b.test"], mode = offload, pool = shared,
                    certificate { chain = "b.pem", key = "b.key" },
                    listeners = [main, guarded, proxied], deny-from = ["127.0.0.9/32"] }
                  { hosts = ["c.test"], pool = tenant-a-other, allow-from = ["127.0.0.7"] }
                ]
                default-route { mode = offload, pool = fallback,
                                certificate { chain = "default.pem", key = "default.key" } }
                pools {
                  tenant-a { servers = ["127.0.0.1:%d"] }
                  tenant-a-other { servers = ["127.0.0.1:%d"] }
                  tenant-b { servers = ["127.0.0.1:%d"] }
                  shared { servers = ["127.0.0.1:%d"] }
                  fallback { servers = ["127.0.0.1:%d"] }
                }
                """,
                tenantA.port(),
                tenantAOther.port(),
                tenantB.port(),
                shared.port(),
                fallback.port()));
  }

  @AfterAll
  static void stop() {
    if (tollgate != null) {
      tollgate.close();
    }
    for (TlsTestServer s : new TlsTestServer[] {tenantA, tenantAOther, tenantB, shared, fallback}) {
      if (s != null) {
        s.close();
      }
    }
  }

  /** What a TLS client from {@code from} asking for {@code sni} (null: none) got. */
  private record Answer(String certificateName, String greeting) {}

  private static Answer ask(String from, String listener, String sni) throws Exception {
    Socket plain = new Socket();
    plain.bind(new InetSocketAddress(InetAddress.getByName(from), 0));
    plain.connect(tollgate.address(listener), 10_000);
    return handshake(plain, sni);
  }

  private static Answer handshake(Socket plain, String sni) throws Exception {
    plain.setSoTimeout(10_000);
    try (SSLSocket s =
        (SSLSocket)
            ca.clientContext()
                .getSocketFactory()
                .createSocket(
                    plain, plain.getInetAddress().getHostAddress(), plain.getPort(), true)) {
      SSLParameters p = s.getSSLParameters();
      // No SNI at all when sni is null: what old Java and IoT clients connecting by IP send.
      p.setServerNames(sni == null ? List.of() : List.of(new SNIHostName(sni)));
      s.setSSLParameters(p);
      s.startHandshake();
      String name = TlsTestClient.dnsNames(TlsTestClient.peer(s)).get(0);
      String line =
          new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII))
              .readLine();
      return new Answer(name, line);
    }
  }

  @Test
  void aRouteBoundToOneListenerIsNotRoutedOnAnother() throws Exception {
    int tenantABefore = tenantA.acceptedConnections();
    assertThat(ask("127.0.0.1", "main", "a.test")).isEqualTo(new Answer("a.test", "a"));
    assertThat(tenantA.acceptedConnections()).isEqualTo(tenantABefore + 1);

    // Tenant crossing: tenant A's name on tenant B's VIP is tenant B's, never tenant A's backend.
    assertThat(ask("127.0.0.1", "vip-b", "a.test")).isEqualTo(new Answer("vip-b.test", "tenant-b"));
    // On a listener without a default of its own: the top-level default route.
    assertThat(ask("127.0.0.1", "guarded", "a.test"))
        .isEqualTo(new Answer("default.test", "default"));
    assertThat(tenantA.acceptedConnections()).isEqualTo(tenantABefore + 1);
  }

  @Test
  void aDedicatedIpListenerSendsEveryNameAndNoSniToItsTenant() throws Exception {
    assertThat(ask("127.0.0.1", "vip-b", "anything.example"))
        .isEqualTo(new Answer("vip-b.test", "tenant-b"));
    assertThat(ask("127.0.0.1", "vip-b", null)).isEqualTo(new Answer("vip-b.test", "tenant-b"));
    // b.test is routed on the other listeners only: here it is the VIP tenant's too.
    assertThat(ask("127.0.0.1", "vip-b", "b.test")).isEqualTo(new Answer("vip-b.test", "tenant-b"));
    assertThat(ask("127.0.0.1", "main", "b.test")).isEqualTo(new Answer("b.test", "shared"));
  }

  @Test
  void aClientWithoutSniIsOffloadedWithTheDefaultCertificate() throws Exception {
    // TlsTestClient without sni(): a JDK client connecting to 127.0.0.1 sends no server_name.
    try (SSLSocket s =
        TlsTestClient.to(tollgate.port()).trust(trust()).protocols("TLSv1.2").connect()) {
      assertThat(TlsTestClient.dnsNames(TlsTestClient.peer(s))).containsExactly("default.test");
      assertThat(
              new BufferedReader(
                      new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII))
                  .readLine())
          .isEqualTo("default");
    }
    assertThat(ask("127.0.0.1", "main", null)).isEqualTo(new Answer("default.test", "default"));
  }

  @Test
  void opensslWithoutServerNameGetsTheDefaultCertificateAndVerifiesIt() {
    var openssl = CommandLineTools.which("openssl");
    assumeThat(openssl).as("openssl is not installed").isPresent();
    // stdin is /dev/null: s_client handshakes, prints, reads EOF and closes.
    ProcessResult r =
        CommandLineTools.run(
            Duration.ofSeconds(30),
            openssl.get().toString(),
            "s_client",
            "-connect",
            "127.0.0.1:" + tollgate.port(),
            "-noservername",
            "-CAfile",
            caPem.toString(),
            "-verify_hostname",
            "default.test",
            "-verify_return_error");
    assertThat(r.ok()).as("%s", r).isTrue();
    assertThat(r.stdout()).as("%s", r).contains("Verify return code: 0 (ok)", "default.test");
  }

  @Test
  void aListenersAllowAndDenyListsCloseOthersBeforeTheHello() throws Exception {
    long denied = tollgate.metrics().closedCount(CloseReason.DENIED);
    assertThat(ask("127.0.0.5", "guarded", "b.test")).isEqualTo(new Answer("b.test", "shared"));
    for (String from : List.of("127.0.0.6", "127.0.0.8")) {
      // 127.0.0.6 is denied, 127.0.0.8 outside allow-from: closed at accept, not a byte sent.
      Socket plain = new Socket();
      plain.bind(new InetSocketAddress(InetAddress.getByName(from), 0));
      plain.connect(tollgate.address("guarded"), 10_000);
      plain.setSoTimeout(10_000);
      try (plain) {
        assertThat(readOrReset(plain)).as("from %s", from).isLessThan(0);
      }
    }
    tollgate.awaitClosed(CloseReason.DENIED, denied + 2);
  }

  @Test
  void aRoutesDenyListAnswersOffloadClientsWithAccessDenied() throws Exception {
    long denied = tollgate.metrics().closedCount(CloseReason.DENIED);
    int sharedBefore = shared.acceptedConnections();
    assertThatThrownBy(() -> ask("127.0.0.9", "main", "b.test"))
        .hasMessageContaining("access_denied");
    tollgate.awaitClosed(CloseReason.DENIED, denied + 1);
    Map<String, Object> line = awaitAccessLogLine("127.0.0.9");
    assertThat(line)
        .containsEntry("reason", "denied")
        .containsEntry("route", "b.test")
        .containsEntry("sni", "b.test");
    assertThat(ask("127.0.0.1", "main", "b.test")).isEqualTo(new Answer("b.test", "shared"));
    assertThat(shared.acceptedConnections()).isEqualTo(sharedBefore + 1);
  }

  @Test
  void aPassthroughRoutesAllowListAnswersOthersWithAccessDenied() throws Exception {
    long denied = tollgate.metrics().closedCount(CloseReason.DENIED);
    int before = tenantAOther.acceptedConnections();
    assertThatThrownBy(() -> ask("127.0.0.1", "main", "c.test"))
        .hasMessageContaining("access_denied");
    tollgate.awaitClosed(CloseReason.DENIED, denied + 1);
    assertThat(ask("127.0.0.7", "main", "c.test")).isEqualTo(new Answer("c.test", "c"));
    assertThat(tenantAOther.acceptedConnections()).isEqualTo(before + 1);
  }

  @Test
  void aListenersRulesApplyToTheClientAProxyV2HeaderNames() throws Exception {
    long denied = tollgate.metrics().closedCount(CloseReason.DENIED);
    // The socket's peer (127.0.0.1) is not in allow-from; the header's client is.
    try (Socket plain = new Socket()) {
      plain.connect(tollgate.address("proxied"), 10_000);
      plain.getOutputStream().write(v2("203.0.113.9"));
      assertThat(handshake(plain, "b.test")).isEqualTo(new Answer("b.test", "shared"));
    }
    try (Socket plain = new Socket()) {
      plain.connect(tollgate.address("proxied"), 10_000);
      plain.setSoTimeout(10_000);
      plain.getOutputStream().write(v2("198.51.100.7"));
      assertThat(readOrReset(plain)).isLessThan(0);
    }
    tollgate.awaitClosed(CloseReason.DENIED, denied + 1);
  }

  /** The access log's line for the first connection from {@code client}, once written. */
  private static Map<String, Object> awaitAccessLogLine(String client) throws Exception {
    Path file = dir.resolve("access.log");
    java.util.concurrent.atomic.AtomicReference<Map<String, Object>> found =
        new java.util.concurrent.atomic.AtomicReference<>();
    TollgateFixture.await(
        () -> {
          try {
            for (Map<String, Object> parsed : AccessLogFile.lines(file)) {
              if (client.equals(parsed.get("client"))) {
                found.set(parsed);
                return true;
              }
            }
            return false;
          } catch (java.io.IOException e) {
            return false;
          }
        },
        Duration.ofSeconds(10));
    return found.get();
  }

  private static byte[] v2(String client) {
    return ProxyHeaderEncoder.v2(
        new InetSocketAddress(client, 40000),
        new InetSocketAddress("192.0.2.1", 443),
        List.of(),
        false);
  }

  /** -1 at end of stream or on a reset, else the byte read. */
  private static int readOrReset(Socket s) {
    try {
      return s.getInputStream().read();
    } catch (java.io.IOException e) {
      return -1;
    }
  }

  private static javax.net.ssl.TrustManagerFactory trust() throws Exception {
    return ca.trustManagers();
  }
}
