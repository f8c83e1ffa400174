package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tollgate.connection.CloseReason;
import io.tollgate.pki.CertificateAuthority;
import io.tollgate.pki.CertificateAuthority.KeyType;
import io.tollgate.testkit.TlsTestClient;
import io.tollgate.testkit.TlsTestServer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Several tenants behind one listener, each backend holding its own certificate: Tollgate routes by
 * SNI and the client verifies the backend's certificate through it (Tollgate holds no key).
 */
class SniRoutingTest {
  private static CertificateAuthority ca;
  @RegisterExtension static final ClassResources resources = new ClassResources();
  private static TlsTestServer pass1;
  private static TlsTestServer pass2;
  private static TlsTestServer wild;
  private static TlsTestServer fallback;
  private static TollgateFixture tollgate;

  @BeforeAll
  static void start() throws Exception {
    ca = CertificateAuthority.create("Tollgate IT CA", KeyType.EC_P256);
    var passCert = ca.issue(KeyType.EC_P256, "pass.test", "www.pass.test");
    pass1 = resources.add(TlsTestServer.start(passCert, TlsTestServer.greet("pass-1")));
    pass2 = resources.add(TlsTestServer.start(passCert, TlsTestServer.greet("pass-2")));
    wild =
        resources.add(
            TlsTestServer.start(
                ca.issue(KeyType.RSA_2048, "*.wild.test", "*.b.wild.test"),
                TlsTestServer.greet("wild")));
    fallback =
        resources.add(
            TlsTestServer.start(
                ca.issue(KeyType.EC_P256, "fallback.test"), TlsTestServer.greet("fallback")));
    tollgate =
        resources.add(
            TollgateFixture.start(
                String.format(
                    """
        routes = [
          { hosts = ["pass.test", "WWW.Pass.Test."], mode = passthrough, pool = pass }
          { hosts = ["*.wild.test"], mode = passthrough, pool = wild }
        ]
        default-route { pool = fallback }
        pools {
          pass { servers = ["127.0.0.1:%d", "127.0.0.1:%d"] }
          wild { servers = [{ address = "127.0.0.1:%d", weight = 2 }] }
          fallback { servers = ["127.0.0.1:%d"] }
        }
        """,
                    pass1.port(), pass2.port(), wild.port(), fallback.port())));
  }

  /** Connects through Tollgate with SNI {@code name}, verifying the certificate for that name. */
  private static String greetingFor(String name) throws Exception {
    try (TlsTestClient.Connection c = TlsTestClient.connect(tollgate.port(), name, ca)) {
      return firstLine(c.socket());
    }
  }

  private static String firstLine(SSLSocket socket) throws Exception {
    return new BufferedReader(
            new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8))
        .readLine();
  }

  @Test
  void exactNamesReachTheirPoolAndRoundRobinOverItsServers() throws Exception {
    List<String> seen = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      seen.add(greetingFor("pass.test"));
    }
    assertThat(seen).containsOnly("pass-1", "pass-2").contains("pass-1", "pass-2");
    // The config spelled it WWW.Pass.Test. : matching is case-insensitive, trailing dot ignored.
    assertThat(greetingFor("www.pass.test")).startsWith("pass-");
  }

  @Test
  void clientVerifiesTheBackendsOwnCertificateThroughTollgate() throws Exception {
    try (TlsTestClient.Connection c = TlsTestClient.connect(tollgate.port(), "a.wild.test", ca)) {
      assertThat(c.peerDnsNames()).contains("*.wild.test");
      assertThat(c.peerCertificate()).isEqualTo(wild.certificate().certificate());
      assertThat(c.protocol()).isEqualTo("TLSv1.3");
    } catch (Exception e) {
      throw new AssertionError(e);
    }
    assertThat(wild.awaitServerName("a.wild.test")).contains("a.wild.test");
  }

  @Test
  void wildcardMatchesDeeperNamesButNotItsBareSuffix() throws Exception {
    assertThat(greetingFor("a.wild.test")).isEqualTo("wild");
    assertThat(greetingFor("x.b.wild.test")).isEqualTo("wild");
    // "wild.test" is not covered by *.wild.test: it goes to the default route, whose backend
    // presents fallback.test's certificate, so verify against that name while sending wild.test.
    try (TlsTestClient.Connection c =
        TlsTestClient.connect(
            new InetSocketAddress("127.0.0.1", tollgate.port()),
            "wild.test",
            "fallback.test",
            ca.clientContext(),
            TlsTestClient.DEFAULT_TIMEOUT)) {
      assertThat(firstLine(c.socket())).isEqualTo("fallback");
    }
  }

  @Test
  void unknownNamesAndClientsWithoutSniGoToTheDefaultRoute() throws Exception {
    try (TlsTestClient.Connection c =
        TlsTestClient.connect(
            new InetSocketAddress("127.0.0.1", tollgate.port()),
            "nobody.example",
            "fallback.test",
            ca.clientContext(),
            TlsTestClient.DEFAULT_TIMEOUT)) {
      assertThat(firstLine(c.socket())).isEqualTo("fallback");
    }
    try (TlsTestClient.Connection c =
        TlsTestClient.connect(
            new InetSocketAddress("127.0.0.1", tollgate.port()),
            null,
            "fallback.test",
            ca.clientContext(),
            TlsTestClient.DEFAULT_TIMEOUT)) {
      assertThat(firstLine(c.socket())).isEqualTo("fallback");
    }
  }

  @Test
  void rejectDefaultRouteRefusesUnknownNamesWithUnrecognizedName() throws Exception {
    try (TollgateFixture strict =
        TollgateFixture.start(
            String.format(
                """
        routes = [ { hosts = ["pass.test"], mode = passthrough, pool = pass } ]
        default-route = reject
        pools { pass { servers = ["127.0.0.1:%d"] } }
        """,
                pass1.port()))) {
      assertThatThrownBy(() -> TlsTestClient.connect(strict.port(), "other.test", ca))
          .isInstanceOf(UncheckedIOException.class)
          .hasCauseInstanceOf(SSLHandshakeException.class)
          .hasMessageContaining("unrecognized_name");
      strict.awaitClosed(CloseReason.NO_ROUTE, 1);
      // The tenant that does have a route is unaffected.
      try (TlsTestClient.Connection c = TlsTestClient.connect(strict.port(), "pass.test", ca)) {
        assertThat(firstLine(c.socket())).isEqualTo("pass-1");
      }
    }
  }
}
