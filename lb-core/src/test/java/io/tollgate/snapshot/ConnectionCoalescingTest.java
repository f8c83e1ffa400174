package io.tollgate.snapshot;

import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.cli.TollgateCli;
import io.tollgate.config.ConfigError;
import io.tollgate.config.ConfigLoader;
import io.tollgate.pki.CertificateAuthority;
import io.tollgate.pki.CertificateAuthority.KeyType;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Routes whose h2 connections browsers may reuse for another route's names (RFC 9113 9.1.1): one
 * certificate covering two routes that go to different pools is a warning naming both.
 */
class ConnectionCoalescingTest {
  @TempDir static Path dir;

  @BeforeAll
  static void certificates() throws Exception {
    CertificateAuthority ca = CertificateAuthority.create("Coalescing CA", KeyType.EC_P256);
    ca.writeCertificatePem(dir.resolve("ca.pem"));
    ca.issue(KeyType.EC_P256, "a.test", "b.test").writePem(dir, "both");
    ca.issue(KeyType.EC_P256, "a.test").writePem(dir, "a");
    ca.issue(KeyType.EC_P256, "b.test").writePem(dir, "b");
    ca.issue(KeyType.EC_P256, "*.w.test").writePem(dir, "wild");
    Path store = Files.createDirectories(dir.resolve("store"));
    ca.issue(KeyType.EC_P256, "a.test", "b.test").writePem(store, "both");
  }

  private static List<ConfigError> warnings(String routes, String pools) throws Exception {
    return warnings(ONE_LISTENER, routes, pools);
  }

  private static List<ConfigError> warnings(String listeners, String routes, String pools)
      throws Exception {
    return Snapshot.build(ConfigLoader.load(write(listeners, routes, pools))).warnings().stream()
        .filter(w -> w.message().contains("RFC 9113"))
        .toList();
  }

  private static final String ONE_LISTENER = "{ name = main, address = \"127.0.0.1:0\" }";

  /** Two TLS listeners and a port-80 one, which never carries h2. */
  private static final String TWO_LISTENERS =
      "{ name = edge-a, address = \"127.0.0.1:0\" }\n"
          + " { name = edge-b, address = \"127.0.0.1:0\" }\n"
          + " { name = port80, address = \"127.0.0.1:0\", protocol = http }";

  private static Path write(String routes, String pools) throws Exception {
    return write(ONE_LISTENER, routes, pools);
  }

  private static Path write(String listeners, String routes, String pools) throws Exception {
    return Files.writeString(
        dir.resolve("tollgate.conf"),
        """
        tollgate {
          listeners = [ %s ]
          certificates { trusted-roots = "ca.pem", directory = "store" }
          routes = [ %s ]
          pools { %s }
        }
        """
            .formatted(listeners, routes, pools));
  }

  private static final String TWO_POOLS =
      "pa { servers = [\"127.0.0.1:9001\"] }\n pb { servers = [\"127.0.0.1:9002\"] }";

  private static String offload(String host, String pool, String cert, String alpn) {
    return "{ hosts = [\""
        + host
        + "\"], mode = offload, pool = "
        + pool
        + ", alpn = "
        + alpn
        + ", certificate = "
        + cert
        + " }\n";
  }

  private static String files(String base) {
    return "{ chain = \"" + base + ".pem\", key = \"" + base + ".key\" }";
  }

  @Test
  void aMultiSanCertificateOfferingH2ToTwoPoolsIsAWarningNamingBothRoutes() throws Exception {
    List<ConfigError> w =
        warnings(
            offload("a.test", "pa", files("both"), "[h2, \"http/1.1\"]")
                + offload("b.test", "pb", files("b"), "[\"http/1.1\"]"),
            TWO_POOLS);
    assertThat(w)
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.path()).isEqualTo("tollgate.routes[0]");
              assertThat(e.message())
                  .contains("route \"a.test\" offers h2")
                  .contains("both.pem")
                  .contains("route \"b.test\"")
                  .contains("can reach pool pa")
                  .contains("separate certificates");
            });
  }

  @Test
  void withoutH2OrWithSeparateCertificatesThereIsNoWarning() throws Exception {
    assertThat(
            warnings(
                offload("a.test", "pa", files("both"), "[\"http/1.1\"]")
                    + offload("b.test", "pb", files("both"), "[\"http/1.1\"]"),
                TWO_POOLS))
        .isEmpty();
    assertThat(
            warnings(
                offload("a.test", "pa", files("a"), "[h2]")
                    + offload("b.test", "pb", files("b"), "[h2]"),
                TWO_POOLS))
        .isEmpty();
  }

  @Test
  void bothRoutesOfferingH2WithOneCertificateWarnForEach() throws Exception {
    List<ConfigError> w =
        warnings(
            offload("a.test", "pa", files("both"), "[h2]")
                + offload("b.test", "pb", files("both"), "[h2]"),
            TWO_POOLS);
    assertThat(w)
        .extracting(ConfigError::path)
        .containsExactly("tollgate.routes[0]", "tollgate.routes[1]");
  }

  @Test
  void aWildcardCertificateCoversAPassthroughRouteUnderIt() throws Exception {
    List<ConfigError> w =
        warnings(
            offload("www.w.test", "pa", files("wild"), "[h2]")
                + "{ hosts = [\"api.w.test\"], mode = passthrough, pool = pb }",
            TWO_POOLS);
    assertThat(w)
        .singleElement()
        .satisfies(
            e ->
                assertThat(e.message())
                    .contains("wild.pem")
                    .contains("api.w.test")
                    .contains("route \"api.w.test\""));
  }

  @Test
  void theCertificateStoreServingTwoAutoRoutesIsCoveredToo() throws Exception {
    List<ConfigError> w =
        warnings(
            offload("a.test", "pa", "auto", "[h2]") + offload("b.test", "pb", "auto", "[h2]"),
            TWO_POOLS);
    assertThat(w).hasSize(2);
    assertThat(w.get(0).message()).contains("store").contains("both.pem");
  }

  @Test
  void onePoolIsFineUnlessTheClientAuthPolicyDiffers() throws Exception {
    String pool = "pa { servers = [\"127.0.0.1:9001\"] }";
    assertThat(
            warnings(
                offload("a.test", "pa", files("both"), "[h2]")
                    + offload("b.test", "pa", files("b"), "[h2]"),
                pool))
        .isEmpty();
    List<ConfigError> w =
        warnings(
            offload("a.test", "pa", files("both"), "[h2]")
                + "{ hosts = [\"b.test\"], mode = offload, pool = pa, certificate = "
                + files("b")
                + ", client-auth { mode = require, ca = \"ca.pem\" } }",
            pool);
    assertThat(w)
        .singleElement()
        .satisfies(
            e -> assertThat(e.message()).contains("without route \"b.test\"'s client-auth policy"));
  }

  @Test
  void checkPrintsTheWarning() throws Exception {
    Path file =
        write(
            offload("a.test", "pa", files("both"), "[h2]")
                + offload("b.test", "pb", files("b"), "[h2]"),
            TWO_POOLS);
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cmd = TollgateCli.commandLine();
    cmd.setOut(new PrintWriter(out));
    cmd.setErr(new PrintWriter(err));
    assertThat(cmd.execute("check", "--config", file.toString())).isZero();
    assertThat(err.toString())
        .contains("warning: ")
        .contains("route \"a.test\" offers h2")
        .contains("route \"b.test\"");
  }

  private static String on(String route, String listeners) {
    return route.replace(" }\n", ", listeners = " + listeners + " }\n");
  }

  @Test
  void routesThatNeverShareAListenerDoNotWarn() throws Exception {
    assertThat(
            warnings(
                TWO_LISTENERS,
                on(offload("a.test", "pa", files("both"), "[h2]"), "[edge-a]")
                    + on(offload("b.test", "pb", files("both"), "[h2]"), "[edge-b]"),
                TWO_POOLS))
        .isEmpty();
  }

  @Test
  void routesThatShareOneListenerWarnNamingIt() throws Exception {
    List<ConfigError> w =
        warnings(
            TWO_LISTENERS,
            on(offload("a.test", "pa", files("both"), "[h2]"), "[edge-a, edge-b]")
                + on(offload("b.test", "pb", files("b"), "[h2]"), "[edge-b]"),
            TWO_POOLS);
    assertThat(w)
        .singleElement()
        .satisfies(
            e ->
                assertThat(e.message())
                    .contains("route \"a.test\" offers h2")
                    .contains("on listener edge-b, where both routes apply")
                    .contains("can reach pool pa"));
    // A route on every listener meets a restricted one on that one's listener.
    assertThat(
            warnings(
                TWO_LISTENERS,
                offload("a.test", "pa", files("both"), "[h2]")
                    + on(offload("b.test", "pb", files("b"), "[h2]"), "[edge-a]"),
                TWO_POOLS))
        .singleElement()
        .satisfies(e -> assertThat(e.message()).contains("on listener edge-a"));
  }

  @Test
  void onAListenerWhereTheNamesOwnRouteDoesNotApplyTheWildcardTakingItIsNamed() throws Exception {
    String pools = TWO_POOLS + "\n pc { servers = [\"127.0.0.1:9003\"] }";
    List<ConfigError> w =
        warnings(
            TWO_LISTENERS,
            on(offload("www.w.test", "pa", files("wild"), "[h2]"), "[edge-a]")
                + "{ hosts = [\"api.w.test\"], pool = pb, listeners = [edge-b] }\n"
                + "{ hosts = [\"*.w.test\"], pool = pc, listeners = [edge-a] }\n",
            pools);
    assertThat(w)
        .singleElement()
        .satisfies(
            e ->
                assertThat(e.message())
                    .contains("route \"*.w.test\"")
                    .contains("(route \"*.w.test\", pool pc) can reach pool pa")
                    .doesNotContain("route \"api.w.test\"")
                    .doesNotContain("pool pb"));
  }
}
