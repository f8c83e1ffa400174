package io.tollgate.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tenants-directory}: one file per tenant, merged into routes and pools. */
class TenantsDirectoryTest {
  @TempDir Path dir;

  private static final String MAIN =
      """
      tollgate {
        listeners = [ { name = main, address = "127.0.0.1:8443" } ]
        tenants-directory = tenants
        routes = [ { hosts = ["main.test"], pool = main } ]
        pools { main { servers = ["127.0.0.1:9001"] } }
      }
      """;

  private ConfigFiles files() {
    return new ConfigFiles(dir);
  }

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

  @Test
  void eachTenantFileAddsItsRoutesAndPoolsInNameOrder() throws Exception {
    Path main = files().write("tollgate.conf", MAIN);
    files().write("tenants/b.conf", tenant("b.test", "b", 9003));
    files().write("tenants/a.conf", tenant("a.test", "a", 9002));
    files().write("tenants/notes.txt", "not a tenant");

    TollgateConfig config = ConfigLoader.load(main);

    assertThat(config.routes())
        .extracting(RouteConfig::name)
        .containsExactly("main.test", "a.test", "b.test");
    assertThat(config.pools()).containsOnlyKeys("main", "a", "b");
    assertThat(config.pool("b").servers().get(0).address())
        .isEqualTo(new HostPort("127.0.0.1", 9003));
  }

  /** The main file and tenants a and b, written well before the loads (settled: kept parses). */
  private Path settledMainWithTenantsAAndB() throws Exception {
    Path main = files().write("tollgate.conf", MAIN);
    files().write("tenants/a.conf", tenant("a.test", "a", 9002));
    files().write("tenants/b.conf", tenant("b.test", "b", 9003));
    for (String f : List.of("tollgate.conf", "tenants/a.conf", "tenants/b.conf")) {
      java.nio.file.Files.setLastModifiedTime(
          dir.resolve(f),
          java.nio.file.attribute.FileTime.from(java.time.Instant.now().minusSeconds(60)));
    }
    return main;
  }

  @Test
  void aRehearsalLoadReadsOneTenantFileAgainAndGivesTheSameConfigAsALoad() throws Exception {
    Path main = settledMainWithTenantsAAndB();
    TollgateConfig first = ConfigLoader.load(main);
    TollgateConfig second = ConfigLoader.load(main);
    assertThat(second.routes().get(2)).as("b taken over").isSameAs(first.routes().get(2));

    // Index 1 of the tenant files in name order: b.conf.
    TollgateConfig rehearsed = ConfigLoader.loadRereadingTenant(main, 1);

    assertThat(rehearsed).isEqualTo(second);
    assertThat(rehearsed.routes().get(2)).as("b bound again").isNotSameAs(second.routes().get(2));
    assertThat(rehearsed.pool("b")).isNotSameAs(second.pool("b"));
    assertThat(rehearsed.routes().get(1)).as("a taken over").isSameAs(second.routes().get(1));
    assertThat(rehearsed.pool("a")).isSameAs(second.pool("a"));
  }

  @Test
  void aRehearsalLoadCanLeaveOneTenantFileOutAndTheNextLoadHasItAgain() throws Exception {
    Path main = settledMainWithTenantsAAndB();
    TollgateConfig full = ConfigLoader.load(main);

    // Index 1 of the tenant files in name order: b.conf, as if it had been removed.
    TollgateConfig without = ConfigLoader.loadLeavingOutTenant(main, 1);

    assertThat(without.routes())
        .extracting(RouteConfig::name)
        .containsExactly("main.test", "a.test");
    assertThat(without.pools()).containsOnlyKeys("main", "a");
    assertThat(without.pool("a")).as("a taken over").isSameAs(full.pool("a"));
    TollgateConfig again = ConfigLoader.load(main);
    assertThat(again).isEqualTo(full);
    assertThat(again.pools()).containsOnlyKeys("main", "a", "b");
  }

  @Test
  void anErrorInATenantFileNamesThatFileItsLineAndTheKey() throws Exception {
    Path main = files().write("tollgate.conf", MAIN);
    files().write("tenants/a.conf", tenant("a.test", "a", 9002));
    Path bad =
        files()
            .write(
                "tenants/b.conf",
                "routes = [ { hosts = [\"b.test\"], pool = b } ]\n"
                    + "pools {\n  b {\n    servres = [\"127.0.0.1:1\"]\n  }\n}\n");

    ConfigException e = catchThrowableOfType(() -> ConfigLoader.load(main), ConfigException.class);

    assertThat(e.errors())
        .anySatisfy(
            err -> {
              assertThat(err.origin()).isEqualTo(bad.toString() + ":4");
              assertThat(err.path()).isEqualTo("tollgate.pools.b.servres");
            });
  }

  @Test
  void aPoolDefinedInTwoFilesAndAForeignKeyAreErrorsNamingTheTenantFile() throws Exception {
    Path main = files().write("tollgate.conf", MAIN);
    Path a = files().write("tenants/a.conf", tenant("a.test", "main", 9002));
    Path b = files().write("tenants/b.conf", "\n\nlisteners = []\n");

    ConfigException e = catchThrowableOfType(() -> ConfigLoader.load(main), ConfigException.class);

    assertThat(e.errors())
        .anySatisfy(
            err -> {
              assertThat(err.origin()).isEqualTo(a + ":2");
              assertThat(err.message()).contains("\"main\" is already defined at");
            })
        .anySatisfy(
            err -> {
              assertThat(err.origin()).isEqualTo(b + ":3");
              assertThat(err.message()).contains("unknown key \"listeners\" in a tenant file");
            });
  }

  @Test
  void aSyntaxErrorNamesTheTenantFile() throws Exception {
    Path main = files().write("tollgate.conf", MAIN);
    Path bad = files().write("tenants/a.conf", "routes = [ {\n");

    ConfigException e = catchThrowableOfType(() -> ConfigLoader.load(main), ConfigException.class);

    assertThat(e.errors())
        .singleElement()
        .satisfies(err -> assertThat(err.origin()).startsWith(bad.toString()));
  }

  @Test
  void aHostClaimedByTwoTenantsIsAnError() throws Exception {
    Path main = files().write("tollgate.conf", MAIN);
    files().write("tenants/a.conf", tenant("same.test", "a", 9002));
    Path b = files().write("tenants/b.conf", tenant("same.test", "b", 9003));

    ConfigException e = catchThrowableOfType(() -> ConfigLoader.load(main), ConfigException.class);

    assertThat(e.errors()).anySatisfy(err -> assertThat(err.origin()).startsWith(b.toString()));
  }

  @Test
  void aMissingDirectoryIsAnErrorAtTheKey() throws Exception {
    Path main = files().write("tollgate.conf", MAIN);

    ConfigException e = catchThrowableOfType(() -> ConfigLoader.load(main), ConfigException.class);

    assertThat(e.errors())
        .singleElement()
        .satisfies(
            err -> {
              assertThat(err.origin()).isEqualTo(main + ":3");
              assertThat(err.path()).isEqualTo("tollgate.tenants-directory");
              assertThat(err.message()).contains("directory not found");
            });
  }

  @Test
  void theWatchedFilesAreTheDirectoryAndItsTenantFiles() throws Exception {
    Path main = files().write("tollgate.conf", MAIN);
    Path a = files().write("tenants/a.conf", tenant("a.test", "a", 9002));

    assertThat(ConfigLoader.sourceFiles(main))
        .containsExactlyInAnyOrderElementsOf(
            List.of(
                main.toAbsolutePath(),
                dir.resolve("tenants").toAbsolutePath(),
                a.toAbsolutePath()));
    Files.delete(a);
    assertThat(ConfigLoader.sourceFiles(main)).doesNotContain(a.toAbsolutePath());
  }
}
