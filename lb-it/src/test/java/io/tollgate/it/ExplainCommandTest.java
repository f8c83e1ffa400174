package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.cli.TollgateCli;
import io.tollgate.pki.CertificateAuthority;
import io.tollgate.pki.CertificateAuthority.KeyType;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code tollgate explain}: the route, mode, pool and certificate, and why. */
class ExplainCommandTest {
  @TempDir static Path dir;
  private static Path config;
  private static Path perListener;

  @BeforeAll
  static void writeConfig() throws Exception {
    CertificateAuthority ca = CertificateAuthority.create("Explain CA", KeyType.EC_P256);
    ca.writeCertificatePem(dir.resolve("ca.pem"));
    ca.issue(KeyType.EC_P256, "shop.test").writePem(dir, "shop-ec");
    ca.issue(KeyType.RSA_2048, "shop.test").writePem(dir, "shop-rsa");
    config =
        Files.writeString(
            dir.resolve("tollgate.conf"),
            """
        tollgate {
          listeners = [ { name = main, address = "127.0.0.1:0" } ]
          certificates { trusted-roots = "ca.pem" }
          routes = [
            { hosts = ["shop.test"], mode = offload, pool = shop, alpn = ["h2", "http/1.1"],
              certificate = [ { chain = "shop-ec.pem", key = "shop-ec.key" },
                              { chain = "shop-rsa.pem", key = "shop-rsa.key" } ] }
            { hosts = ["*.wild.test"], pool = wild }
            { hosts = ["shop.test"], pool = wild, match-alpn = ["acme-tls/1"] }
          ]
          pools {
            shop { servers = ["127.0.0.1:9001", { address = "127.0.0.1:9002", weight = 2 }] }
            wild { servers = ["127.0.0.1:9003"], balance = least-conn }
          }
        }
        """);
    perListener =
        Files.writeString(
            dir.resolve("listeners.conf"),
            """
        tollgate {
          listeners = [
            { name = edge, address = "127.0.0.1:0" }
            { name = vip, address = "127.0.0.1:0", default-route { pool = tenant } }
            { name = partners, address = "127.0.0.1:0", default-route = reject }
            { name = port80, address = "127.0.0.1:0", protocol = http }
          ]
          default-route { pool = catchall }
          routes = [
            { hosts = ["shop.test"], pool = shop, listeners = [edge] }
            { hosts = ["*.test"], pool = wild, listeners = [edge, partners] }
          ]
          pools {
            shop { servers = ["127.0.0.1:9001"] }
            wild { servers = ["127.0.0.1:9002"] }
            tenant { servers = ["127.0.0.1:9003"] }
            catchall { servers = ["127.0.0.1:9004"] }
          }
        }
        """);
  }

  private static Path withAccess() throws Exception {
    return Files.writeString(
        dir.resolve("access.conf"),
        """
        tollgate {
          listeners = [
            { name = edge, address = "127.0.0.1:0", deny-from = ["192.0.2.0/24"] }
            { name = open, address = "127.0.0.1:0" }
          ]
          routes = [
            { hosts = ["a.test"], pool = a, allow-from = ["10.0.0.0/8"], deny-from = ["10.1.0.0/16"] }
            { hosts = ["b.test"], pool = b }
          ]
          pools {
            a { servers = ["127.0.0.1:9001"] }
            b { servers = ["127.0.0.1:9002"] }
          }
        }
        """);
  }

  @Test
  void clientOptionSaysWhichAccessRuleLetsItThroughOrRefusesIt() throws Exception {
    Path access = withAccess();
    String[] r = explain(access, "--sni", "a.test", "--listener", "open", "--client", "10.2.3.4");
    assertThat(r[0]).isEqualTo("0");
    assertThat(r[1])
        .contains("access:     allow-from [10.0.0.0/8] (no one else); deny-from [10.1.0.0/16]")
        .contains("client:     10.2.3.4 may connect (admitted by the rules above)");

    r = explain(access, "--sni", "a.test", "--listener", "open", "--client", "10.1.2.3");
    assertThat(r[1])
        .contains("client 10.1.2.3 is refused by the route's rules")
        .contains("access_denied")
        .doesNotContain("may connect");
    r = explain(access, "--sni", "a.test", "--listener", "open", "--client", "172.16.0.1");
    assertThat(r[1]).contains("client 172.16.0.1 is refused by the route's rules");

    // Another tenant's rules never apply: b.test has none, whoever a.test refuses.
    r = explain(access, "--sni", "b.test", "--listener", "open", "--client", "10.1.2.3");
    assertThat(r[1])
        .doesNotContain("access:")
        .contains("client:     10.1.2.3 may connect (no access rules apply)");

    // The listener's rules come first, whatever the route.
    r = explain(access, "--sni", "b.test", "--listener", "edge", "--client", "192.0.2.9");
    assertThat(r[1])
        .contains("listener access: deny-from [192.0.2.0/24]")
        .contains("client 192.0.2.9 is refused by listener edge's rules before its hello is read")
        .doesNotContain("route:");
    // Without --client every listener is answered, the rules shown where they differ.
    r = explain(access, "--sni", "b.test");
    assertThat(r[1]).contains("listener access: deny-from [192.0.2.0/24]");
  }

  @Test
  void aClientThatIsNotAnAddressIsRefused() throws Exception {
    String[] r = explain(withAccess(), "--sni", "a.test", "--client", "10.0.0.0/8");
    assertThat(r[0]).isEqualTo("2");
    assertThat(r[2]).contains("--client 10.0.0.0/8: expected an IP address");
  }

  private static String[] explain(String... args) {
    return explain(config, args);
  }

  private static String[] explain(Path config, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cmd = TollgateCli.commandLine();
    cmd.setOut(new PrintWriter(out));
    cmd.setErr(new PrintWriter(err));
    String[] all = new String[args.length + 3];
    all[0] = "explain";
    all[1] = "--config";
    all[2] = config.toString();
    System.arraycopy(args, 0, all, 3, args.length);
    int exit = cmd.execute(all);
    return new String[] {Integer.toString(exit), out.toString(), err.toString()};
  }

  @Test
  void exactNameOnAnOffloadRouteShowsBothCertificatesAndTheNegotiatedAlpn() {
    String[] r = explain("--sni", "SHOP.test.", "--alpn", "http/1.1,h2");
    assertThat(r[0]).isEqualTo("0");
    assertThat(r[1])
        .contains("connection: SNI shop.test, ALPN http/1.1, h2")
        .contains("route:      shop.test (exact name \"shop.test\")")
        .contains("mode:       offload")
        .contains("pool:       shop (round-robin; 127.0.0.1:9001, 127.0.0.1:9002 weight 2)")
        .containsPattern(
            "clients that support ECDSA \\(nearly all\\): .*shop-ec\\.pem \\[ECDSA,"
                + " subject CN=shop\\.test")
        .containsPattern("clients that support only RSA: .*shop-rsa\\.pem \\[RSA")
        .contains("h2 is negotiated (the route's first choice the client offers)");
  }

  @Test
  void anOfferedProtocolPicksTheHostsMatchAlpnRoute() {
    String[] r = explain("--sni", "shop.test", "--alpn", "acme-tls/1");
    assertThat(r[0]).isEqualTo("0");
    assertThat(r[1])
        .contains("route:      shop.test[acme-tls/1] (exact name \"shop.test\")")
        .contains("mode:       passthrough")
        .contains("pool:       wild (least-conn;");
  }

  @Test
  void wildcardDefaultAndReject() {
    String[] r = explain("--sni", "a.b.wild.test");
    assertThat(r[1])
        .contains("route:      *.wild.test (wildcard \"*.wild.test\"")
        .contains("mode:       passthrough")
        .contains("pool:       wild (least-conn;")
        .doesNotContain("certificate");
    r = explain("--sni", "nobody.test");
    assertThat(r[0]).isEqualTo("0");
    assertThat(r[1])
        .contains("route:      none: rejected (no route has \"nobody.test\"")
        .contains("unrecognized_name");
    r = explain();
    assertThat(r[1]).contains("SNI none").contains("the client sends no SNI");
    r = explain("--sni", "10.0.0.1");
    assertThat(r[1]).contains("is an IP address");
  }

  @Test
  void aBrokenConfigPrintsItsErrors() throws Exception {
    Path broken = Files.writeString(dir.resolve("broken.conf"), "tollgate { routes = 1 }\n");
    StringWriter err = new StringWriter();
    CommandLine cmd = TollgateCli.commandLine();
    cmd.setErr(new PrintWriter(err));
    assertThat(cmd.execute("explain", "--config", broken.toString(), "--sni", "x.test"))
        .isEqualTo(1);
    assertThat(err.toString()).contains("broken.conf:1: tollgate.routes");
  }

  @Test
  void aRouteRestrictedToOneListenerIsPassedOverOnTheOthers() {
    String[] r = explain(perListener, "--sni", "shop.test");
    assertThat(r[0]).isEqualTo("0");
    String[] parts = r[1].split("\n\n");
    assertThat(parts[0]).contains("listeners:  the answer differs by listener");
    assertThat(parts)
        .hasSize(4)
        .anySatisfy(
            p ->
                assertThat(p)
                    .startsWith("on listener edge:\n")
                    .contains("route:      shop.test (exact name \"shop.test\")")
                    .contains("pool:       shop (")
                    .doesNotContain("passed over"))
        .anySatisfy(
            p ->
                assertThat(p)
                    .startsWith("on listener vip:\n")
                    .contains(
                        "passed over: route shop.test (\"shop.test\"), which applies only on"
                            + " listeners edge")
                    .contains("route:      default-route of listener vip (no route on listener vip")
                    .contains("pool:       tenant (")
                    .doesNotContain("pool:       shop"))
        .anySatisfy(
            p ->
                assertThat(p)
                    .startsWith("on listener partners:\n")
                    .contains("passed over: route shop.test")
                    .contains("route:      *.test (wildcard \"*.test\"")
                    .contains("pool:       wild ("));
    // The http listener routes by Host, not SNI: not one of explain's answers.
    assertThat(r[1]).doesNotContain("port80");
  }

  @Test
  void listenersThatAnswerAlikeAreShownTogether() {
    String[] r = explain(perListener, "--sni", "other.test");
    assertThat(r[1])
        .contains("on listeners edge, partners:\nroute:      *.test (wildcard")
        .contains(
            "on listener vip:\npassed over: route *.test (\"*.test\"), which applies only on"
                + " listeners edge, partners\nroute:      default-route of listener vip");
  }

  @Test
  void eachListenersDefaultRouteAnswersForAnUnknownName() {
    String[] r = explain(perListener, "--sni", "nobody.example");
    assertThat(r[1])
        .contains("on listener edge:\nroute:      default-route (no route on listener edge has")
        .contains("pool:       catchall (")
        .contains("on listener vip:\nroute:      default-route of listener vip")
        .contains(
            "on listener partners:\nroute:      none: rejected (no route on listener partners"
                + " has \"nobody.example\" or a wildcard covering it, and listener partners's"
                + " default-route = reject)");
  }

  @Test
  void listenerOptionAnswersForThatListenerOnly() {
    String[] r = explain(perListener, "--sni", "shop.test", "--listener", "vip");
    assertThat(r[0]).isEqualTo("0");
    assertThat(r[1])
        .contains("listener:   vip\n")
        .contains("route:      default-route of listener vip")
        .doesNotContain("edge:")
        .doesNotContain("pool:       shop");
    r = explain(perListener, "--sni", "shop.test", "--listener", "edge");
    assertThat(r[1]).contains("listener:   edge\nroute:      shop.test (exact name");
    r = explain(perListener, "--sni", "shop.test", "--listener", "nope");
    assertThat(r[0]).isEqualTo("2");
    assertThat(r[2])
        .contains("no listener nope")
        .contains("its TLS listeners: edge, vip, partners");
    r = explain(perListener, "--sni", "shop.test", "--listener", "port80");
    assertThat(r[0]).isEqualTo("2");
    assertThat(r[2]).contains("listener port80 is an http listener");
  }

  @Test
  void oneListenerIsNamedWithItsAnswer() {
    String[] r = explain("--sni", "shop.test");
    assertThat(r[1]).contains("listener:   main\nroute:      shop.test (exact name");
  }
}
