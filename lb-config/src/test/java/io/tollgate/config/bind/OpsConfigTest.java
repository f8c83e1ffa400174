package io.tollgate.config.bind;

import static io.tollgate.config.ConfigFiles.validWith;
import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.config.AdminConfig;
import io.tollgate.config.ConfigException;
import io.tollgate.config.ConfigFiles;
import io.tollgate.config.ConfigLoader;
import io.tollgate.config.HostPort;
import io.tollgate.config.TollgateConfig;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code admin}, {@code watch} and {@code timeouts.drain} (issue 6). */
class OpsConfigTest {
  @TempDir Path dir;
  private ConfigFiles files;

  @BeforeEach
  void setUp() {
    files = new ConfigFiles(dir);
  }

  private TollgateConfig load(String text) throws ConfigException {
    return ConfigLoader.load(files.write("ops.conf", text));
  }

  @Test
  void adminIsOffWatchFalseAndDrainThirtySecondsByDefault() throws Exception {
    TollgateConfig c = load(ConfigFiles.VALID);
    assertThat(c.ops().admin()).isEmpty();
    assertThat(c.ops().watch()).isFalse();
    assertThat(c.timeouts().drain()).isEqualTo(Duration.ofSeconds(30));
  }

  @Test
  void bindsAdminWithTokenFileRelativeToTheConfigAndWatchAndDrain() throws Exception {
    files.touch("admin.token");
    TollgateConfig c =
        load(
            validWith(
                    "  io {",
                    """
          admin { address = "0.0.0.0:9900", token-file = "admin.token" }
          watch = true
          io {""")
                .replace("idle = 5m", "idle = 5m, drain = 2s"));
    AdminConfig admin = c.ops().admin().orElseThrow();
    assertThat(admin.address()).isEqualTo(new HostPort("0.0.0.0", 9900));
    assertThat(admin.tokenFile()).contains(dir.resolve("admin.token").toAbsolutePath());
    assertThat(c.ops().watch()).isTrue();
    assertThat(c.timeouts().drain()).isEqualTo(Duration.ofSeconds(2));
  }

  @Test
  void loopbackAdminNeedsNoToken() throws Exception {
    TollgateConfig c = load(validWith("  io {", "  admin { address = \"127.0.0.1:0\" }\n  io {"));
    assertThat(c.ops().admin().orElseThrow().tokenFile()).isEmpty();
  }

  @Test
  void refusesANonLoopbackAdminAddressWithoutAToken() {
    var loaded =
        files.loadBroken(validWith("  io {", "  admin { address = \"0.0.0.0:9900\" }\n  io {"));
    assertThat(loaded.onlyErrorAt("9900", "tollgate.admin.address").message())
        .contains("is not a loopback address and admin has no token-file");
  }

  @Test
  void reportsAMissingTokenFileAndAnUnknownAdminKey() {
    var loaded =
        files.loadBroken(
            validWith(
                "  io {",
                "  admin { address = \"127.0.0.1:9900\", token-file = \"nope.token\", adress = 1 }\n  io {"));
    assertThat(loaded.errorAt("nope.token", "tollgate.admin.token-file").message())
        .contains("file not found");
    assertThat(loaded.errorAt("nope.token", "tollgate.admin.adress").message())
        .contains("did you mean \"address\"?");
  }

  @Test
  void loopbackRecognisesTheUsualSpellings() {
    assertThat(AdminConfig.isLoopback("127.0.0.1")).isTrue();
    assertThat(AdminConfig.isLoopback("127.1.2.3")).isTrue();
    assertThat(AdminConfig.isLoopback("::1")).isTrue();
    assertThat(AdminConfig.isLoopback("LOCALHOST")).isTrue();
    assertThat(AdminConfig.isLoopback("0.0.0.0")).isFalse();
    assertThat(AdminConfig.isLoopback("::")).isFalse();
    assertThat(AdminConfig.isLoopback("admin.example")).isFalse();
  }

  @Test
  void sourceFilesListsIncludedFiles() throws Exception {
    Path inc = files.write("pools.conf", "tollgate.watch = true\n");
    Path main = files.write("main.conf", "include \"pools.conf\"\n" + ConfigFiles.VALID);
    assertThat(ConfigLoader.sourceFiles(main))
        .contains(main.toAbsolutePath(), inc.toAbsolutePath());
  }
}
