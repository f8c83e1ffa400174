package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.tollgate.pki.CertificateAuthority;
import io.tollgate.pki.CertificateAuthority.KeyType;
import io.tollgate.testkit.CommandLineTools;
import io.tollgate.testkit.CommandLineTools.ProcessResult;
import io.tollgate.testkit.TlsTestServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code routes[].match-alpn} (issue 12) with {@code openssl s_client -alpn}: routes that share a
 * host and differ in the protocols they match. Each destination's certificate comes from a CA of
 * its own, so the issuer s_client prints says who answered the handshake.
 */
@Timeout(120)
class MatchAlpnTest {
  private static final Duration TOOL_TIMEOUT = Duration.ofSeconds(20);

  @TempDir static Path dir;
  @RegisterExtension static final ClassResources resources = new ClassResources();
  private static TollgateFixture tollgate;
  private static TlsTestServer acmeResponder;
  private static TlsTestServer h2Pool;
  private static TlsTestServer h1Pool;
  private static TlsTestServer fallbackPool;

  @BeforeAll
  static void start() throws Exception {
    CertificateAuthority root = CertificateAuthority.create("Match Alpn Root", KeyType.EC_P256);
    root.intermediate("Shop Offload CA", KeyType.EC_P256)
        .issue(KeyType.EC_P256, "shop.test")
        .writePem(dir, "shop");
    acmeResponder = backend(root, "Acme Responder CA", "shop.test");
    h2Pool = backend(root, "H2 Pool CA", "api.test");
    h1Pool = backend(root, "H1 Pool CA", "api.test");
    fallbackPool = backend(root, "Fallback Pool CA", "api.test");
    TlsTestServer shopOrigin =
        resources.add(TlsTestServer.startPlain(new PlainHttpResponder("shop")));
    tollgate =
        resources.add(
            TollgateFixture.startIn(
                dir,
                String.format(
                    """
                    routes = [
                      { hosts = ["shop.test"], mode = offload, pool = shop,
                        certificate { chain = "shop.pem", key = "shop.key" } }
                      { hosts = ["shop.test"], pool = acme, match-alpn = ["acme-tls/1"] }
                      { hosts = ["api.test"], pool = h2, match-alpn = ["h2"] }
                      { hosts = ["api.test"], pool = h1, match-alpn = ["http/1.1"] }
                      { hosts = ["api.test"], pool = fallback }
                    ]
                    pools {
                      shop { servers = ["127.0.0.1:%d"] }
                      acme { servers = ["127.0.0.1:%d"] }
                      h2 { servers = ["127.0.0.1:%d"] }
                      h1 { servers = ["127.0.0.1:%d"] }
                      fallback { servers = ["127.0.0.1:%d"] }
                    }
                    """,
                    shopOrigin.port(),
                    acmeResponder.port(),
                    h2Pool.port(),
                    h1Pool.port(),
                    fallbackPool.port())));
  }

  private static TlsTestServer backend(CertificateAuthority root, String caName, String host) {
    return resources.add(
        TlsTestServer.start(
            root.intermediate(caName, KeyType.EC_P256).issue(KeyType.EC_P256, host),
            TlsTestServer.echo()));
  }

  @Test
  void acmeTlsHellosForAnOffloadNameGoToTheResponderOthersAreOffloaded() {
    assertThat(handshake("shop.test", "acme-tls/1"))
        .contains("i:O = Tollgate demo, CN = Acme Responder CA");
    String offloaded = handshake("shop.test", "http/1.1");
    assertThat(offloaded)
        .contains("i:O = Tollgate demo, CN = Shop Offload CA")
        .contains("ALPN protocol: http/1.1");
    // acme-tls/1 among others still matches: the route applies to any hello that offers it.
    assertThat(handshake("shop.test", "h2,acme-tls/1"))
        .contains("i:O = Tollgate demo, CN = Acme Responder CA");
    assertThat(handshake("shop.test", null)).contains("i:O = Tollgate demo, CN = Shop Offload CA");
  }

  @Test
  void h2AndHttp11GoToDifferentPoolsInTheClientsOrderAndTheRestToTheFallback() {
    int h2Before = h2Pool.acceptedConnections();
    int h1Before = h1Pool.acceptedConnections();
    int fallbackBefore = fallbackPool.acceptedConnections();
    int acmeBefore = acmeResponder.acceptedConnections();
    assertThat(handshake("api.test", "h2")).contains("i:O = Tollgate demo, CN = H2 Pool CA");
    assertThat(handshake("api.test", "http/1.1")).contains("i:O = Tollgate demo, CN = H1 Pool CA");
    assertThat(handshake("api.test", "h2,http/1.1"))
        .contains("i:O = Tollgate demo, CN = H2 Pool CA");
    assertThat(handshake("api.test", "http/1.1,h2"))
        .contains("i:O = Tollgate demo, CN = H1 Pool CA");
    assertThat(handshake("api.test", "spdy/3"))
        .contains("i:O = Tollgate demo, CN = Fallback Pool CA");
    assertThat(handshake("api.test", null)).contains("i:O = Tollgate demo, CN = Fallback Pool CA");
    // acme-tls/1 is matched for shop.test only: api.test's hello goes to its fallback.
    assertThat(handshake("api.test", "acme-tls/1"))
        .contains("i:O = Tollgate demo, CN = Fallback Pool CA");
    // No route's pool received another route's connection.
    assertThat(h2Pool.acceptedConnections() - h2Before).isEqualTo(2);
    assertThat(h1Pool.acceptedConnections() - h1Before).isEqualTo(2);
    assertThat(fallbackPool.acceptedConnections() - fallbackBefore).isEqualTo(3);
    assertThat(acmeResponder.acceptedConnections() - acmeBefore).isZero();
  }

  /** One s_client handshake; {@code alpn} as s_client's comma list, or null for no ALPN. */
  private static String handshake(String host, String alpn) {
    List<String> command =
        new ArrayList<>(
            List.of(
                tool("openssl"),
                "s_client",
                "-connect",
                "127.0.0.1:" + tollgate.port(),
                "-servername",
                host));
    if (alpn != null) {
      command.addAll(List.of("-alpn", alpn));
    }
    // stdin is /dev/null: s_client handshakes, prints the chain, reads EOF and closes.
    ProcessResult r = CommandLineTools.run(TOOL_TIMEOUT, command);
    assertThat(r.stdout()).as("%s", r).contains("Certificate chain");
    return r.stdout();
  }

  private static String tool(String name) {
    var path = CommandLineTools.which(name);
    assumeThat(path).as(name + " is not installed").isPresent();
    return path.get().toString();
  }
}
