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
  }

  private static String[] explain(String... args) {
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
}
