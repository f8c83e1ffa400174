package io.tollgate.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A reload of a config with a tenant directory takes unchanged tenants' bound routes and pools over
 * (the same objects, so the runtime keeps their TLS contexts and pools), binds the changed ones,
 * and still reports every error a full bind would, tenant against tenant included.
 */
class IncrementalReloadTest {
  @TempDir Path dir;

  private static final String MAIN =
      """
      tollgate {
        listeners = [ { name = main, address = "127.0.0.1:8443" }, { name = side, address = "127.0.0.1:8444" } ]
        tenants-directory = tenants
      }
      """;

  private static String tenant(String host, String pool, int port) {
    return "routes = [ { hosts = [\""
        + host
        + "\"], pool = "
        + pool
        + " } ]\npools { "
        + pool
        + " { servers = [\"127.0.0.1:"
        + port
        + "\"] } }\n";
  }

  /** Writes a tenant file stamped a minute ago, as a file written before the last load is. */
  private Path settled(String name, String content) throws Exception {
    Path file = new ConfigFiles(dir).write("tenants/" + name, content);
    Files.setLastModifiedTime(file, FileTime.from(Instant.now().minusSeconds(60)));
    return file;
  }

  private Path main() throws Exception {
    return new ConfigFiles(dir).write("tollgate.conf", MAIN);
  }

  @Test
  void unchangedTenantsKeepTheirBoundRouteAndPoolObjectsAndTheChangedOneIsBoundAgain()
      throws Exception {
    Path main = main();
    settled("a.conf", tenant("a.test", "a", 9002));
    settled("b.conf", tenant("b.test", "b", 9003));
    TollgateConfig first = ConfigLoader.load(main);

    settled("b.conf", tenant("b.test", "b", 9004));
    TollgateConfig second = ConfigLoader.load(main);

    assertThat(route(second, "a.test")).isSameAs(route(first, "a.test"));
    assertThat(second.pool("a")).isSameAs(first.pool("a"));
    assertThat(second.pool("b")).isNotSameAs(first.pool("b"));
    assertThat(second.pool("b").servers().get(0).address())
        .isEqualTo(new HostPort("127.0.0.1", 9004));
  }

  @Test
  void aFileWrittenJustBeforeALoadIsReadAgainEvenWithTheSameSizeAndTime() throws Exception {
    Path main = main();
    Path b = new ConfigFiles(dir).write("tenants/b.conf", tenant("b.test", "b", 9003));
    FileTime written = Files.getLastModifiedTime(b);
    TollgateConfig first = ConfigLoader.load(main);
    assertThat(first.pool("b").servers().get(0).address().port()).isEqualTo(9003);

    // Same length, same modification time, same inode: only the settling rule tells them apart.
    Files.writeString(b, tenant("b.test", "b", 9005));
    Files.setLastModifiedTime(b, written);
    TollgateConfig second = ConfigLoader.load(main);

    assertThat(second.pool("b").servers().get(0).address().port()).isEqualTo(9005);
  }

  @Test
  void aTenantWrittenJustBeforeEachReloadIsReadByItWhileTheOtherIsTakenOver() throws Exception {
    // The file watch answers for untouched files: the one written right before a reload must
    // still be seen by that reload, each time (same size, only the port and the time differ).
    Path main = main();
    settled("a.conf", tenant("a.test", "a", 9002));
    settled("b.conf", tenant("b.test", "b", 9100));
    TollgateConfig first = ConfigLoader.load(main);
    for (int i = 1; i <= 20; i++) {
      settled("b.conf", tenant("b.test", "b", 9100 + i));
      TollgateConfig next = ConfigLoader.load(main);
      assertThat(next.pool("b").servers().get(0).address().port())
          .as("reload %d", i)
          .isEqualTo(9100 + i);
      assertThat(next.pool("a")).isSameAs(first.pool("a"));
    }
  }

  @Test
  void aTakenOverRouteWhosePoolWasRemovedIsReportedAtItsOwnLine() throws Exception {
    Path main = main();
    Path a = settled("a.conf", "routes = [ { hosts = [\"a.test\"], pool = shared } ]\n");
    settled("z.conf", "pools { shared { servers = [\"127.0.0.1:9002\"] } }\n");
    ConfigLoader.load(main);

    Files.delete(dir.resolve("tenants/z.conf"));
    assertRefusedAt(main, a, "no pool named \"shared\"");
  }

  @Test
  void aTakenOverRouteWhosePoolWasRenamedInAnotherFileIsRefusedThoughThePoolCountIsTheSame()
      throws Exception {
    // The reload skips a taken-over route's pool checks only when the pools are the last
    // bind's: here their number is too, and only the changed file's new name tells.
    Path main = main();
    Path a = settled("a.conf", "routes = [ { hosts = [\"a.test\"], pool = shared } ]\n");
    settled("z.conf", "pools { shared { servers = [\"127.0.0.1:9002\"] } }\n");
    ConfigLoader.load(main);

    settled("z.conf", "pools { other { servers = [\"127.0.0.1:9002\"] } }\n");
    assertRefusedAt(main, a, "no pool named \"shared\"");
  }

  @Test
  void aTakenOverRouteWhosePoolGainedATlsBlockInAnotherFileIsBoundAgain() throws Exception {
    Path main = main();
    settled(
        "a.conf",
        "routes = [ { hosts = [\"a.test\"], mode = offload, pool = shared, certificate = auto } ]\n");
    settled("z.conf", "pools { shared { servers = [\"127.0.0.1:9002\"] } }\n");
    new ConfigFiles(dir).write("certs/.keep", "");
    new ConfigFiles(dir)
        .write(
            "tollgate.conf",
            MAIN.replace(
                "tenants-directory = tenants",
                "tenants-directory = tenants\n  certificates { directory = certs }"));
    TollgateConfig first = ConfigLoader.load(main);
    assertThat(first.warnings()).isEmpty();

    settled(
        "z.conf", "pools { shared { servers = [\"127.0.0.1:9002\"], tls { verify = false } } }\n");
    TollgateConfig second = ConfigLoader.load(main);

    // Bound again, so the offload route says that it ignores the pool's new tls block.
    assertThat(route(second, "a.test")).isNotSameAs(route(first, "a.test"));
    assertThat(second.warnings())
        .anySatisfy(w -> assertThat(w.message()).contains("ignores its tls block"));
  }

  @Test
  void aNewTenantClaimingATakenOverTenantsHostIsRefused() throws Exception {
    Path main = main();
    settled("b.conf", tenant("shop.test", "b", 9003));
    ConfigLoader.load(main);

    // Sorted before b.conf: the new route claims the host first, the taken-over one meets it.
    settled("a.conf", tenant("shop.test", "a", 9002));
    ConfigException e = catchThrowableOfType(() -> ConfigLoader.load(main), ConfigException.class);

    assertThat(e.errors())
        .anySatisfy(err -> assertThat(err.message()).contains("already claimed by"));
  }

  @Test
  void aTakenOverRouteNamingARemovedListenerIsBoundAgainAndRefused() throws Exception {
    Path main = main();
    settled(
        "a.conf",
        "routes = [ { hosts = [\"a.test\"], pool = a, listeners = [side] } ]\n"
            + "pools { a { servers = [\"127.0.0.1:9002\"] } }\n");
    ConfigLoader.load(main);

    new ConfigFiles(dir)
        .write(
            "tollgate.conf", MAIN.replace(", { name = side, address = \"127.0.0.1:8444\" }", ""));
    ConfigException e = catchThrowableOfType(() -> ConfigLoader.load(main), ConfigException.class);

    assertThat(e.errors()).anySatisfy(err -> assertThat(err.message()).contains("side"));
  }

  @Test
  void changedPerRouteDefaultsReachTakenOverTenantRoutes() throws Exception {
    Path main = main();
    settled(
        "a.conf",
        "routes = [ { hosts = [\"a.test\"], mode = offload, pool = a, certificate = auto } ]\n"
            + "pools { a { servers = [\"127.0.0.1:9002\"] } }\n");
    String withStore =
        MAIN.replace(
            "tenants-directory = tenants",
            "tenants-directory = tenants\n  certificates { directory = certs }");
    new ConfigFiles(dir).write("certs/.keep", "");
    new ConfigFiles(dir).write("tollgate.conf", withStore);
    TollgateConfig first = ConfigLoader.load(main);
    assertThat(route(first, "a.test").handshakes().perSecond()).isZero();

    new ConfigFiles(dir)
        .write(
            "tollgate.conf",
            withStore.replace(
                "tenants-directory = tenants",
                "tenants-directory = tenants\n  limits { per-route { handshakes-per-second = 50 } }"));
    TollgateConfig second = ConfigLoader.load(main);

    assertThat(route(second, "a.test").handshakes().perSecond()).isEqualTo(50);
  }

  /**
   * Loading {@code main} is refused with an error at line 1 of {@code file} saying {@code what}.
   */
  private static void assertRefusedAt(Path main, Path file, String what) {
    ConfigException e = catchThrowableOfType(() -> ConfigLoader.load(main), ConfigException.class);
    assertThat(e.errors())
        .anySatisfy(
            err -> {
              assertThat(err.origin()).isEqualTo(file.toString() + ":1");
              assertThat(err.message()).contains(what);
            });
  }

  private static RouteConfig route(TollgateConfig config, String host) {
    return config.routes().stream().filter(r -> r.hosts().contains(host)).findFirst().orElseThrow();
  }
}
