package io.tollgate.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tollgate.warmup { handshakes = auto | N, reloads = auto | N }}: the defaults, read, and
 * refused when invalid.
 */
class WarmupConfigTest {
  @TempDir Path dir;

  private static final String LISTENER =
      "tollgate.listeners = [ { name = main, address = \"127.0.0.1:8443\" } ]\n";

  private TollgateConfig load(String text) throws ConfigException {
    return ConfigLoader.load(new ConfigFiles(dir).write("tollgate.conf", LISTENER + text));
  }

  @Test
  void handshakesAreAutoByDefaultOnForAServerOffEmbedded() throws Exception {
    OpsConfig ops = load("").ops();
    assertThat(ops.warmupHandshakes()).isEqualTo(OpsConfig.HANDSHAKES_AUTO);
    assertThat(ops.handshakeWarmup(true)).isEqualTo(OpsConfig.AUTO_HANDSHAKES);
    assertThat(ops.handshakeWarmup(false)).isZero();
    assertThat(load("tollgate.warmup.handshakes = Auto").ops().handshakeWarmup(true))
        .isEqualTo(OpsConfig.AUTO_HANDSHAKES);
  }

  @Test
  void aNumberOfHandshakesIsTakenHoweverTollgateRuns() throws Exception {
    OpsConfig off = load("tollgate.warmup { handshakes = 0 }").ops();
    assertThat(off.handshakeWarmup(true)).isZero();
    OpsConfig some = load("tollgate.warmup { handshakes = 30 }").ops();
    assertThat(some.handshakeWarmup(true)).isEqualTo(30);
    assertThat(some.handshakeWarmup(false)).isEqualTo(30);
  }

  @Test
  void readsTheNumberOfHandshakes() throws Exception {
    assertThat(load("tollgate.warmup { handshakes = 1000 }").ops().warmupHandshakes())
        .isEqualTo(1000);
  }

  @Test
  void refusesANegativeNumberAndUnknownKeysNamingFileLineAndKey() {
    assertThatThrownBy(() -> load("tollgate.warmup {\n  handshakes = -1\n}"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("tollgate.conf:3")
        .hasMessageContaining("tollgate.warmup.handshakes");
    assertThatThrownBy(() -> load("tollgate.warmup {\n  handshakes = often\n}"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("tollgate.conf:3")
        .hasMessageContaining("tollgate.warmup.handshakes")
        .hasMessageContaining("neither auto nor a number");
    assertThatThrownBy(() -> load("tollgate.warmup { handshake = 10 }"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("did you mean \"handshakes\"");
  }

  @Test
  void reloadsAreRehearsedByTheConfigsSizeByDefault() throws Exception {
    OpsConfig ops = load("").ops();
    assertThat(ops.warmupReloads()).isEqualTo(OpsConfig.RELOADS_AUTO);
    assertThat(ops.reloadRehearsals(10)).isZero();
    assertThat(ops.reloadRehearsals(OpsConfig.AUTO_RELOADS_FROM_ROUTES - 1)).isZero();
    assertThat(ops.reloadRehearsals(OpsConfig.AUTO_RELOADS_FROM_ROUTES))
        .isEqualTo(OpsConfig.AUTO_RELOADS);
    assertThat(load("tollgate.warmup.reloads = AUTO").ops().warmupReloads())
        .isEqualTo(OpsConfig.RELOADS_AUTO);
  }

  @Test
  void aNumberOfReloadsIsTakenWhateverTheConfigsSize() throws Exception {
    OpsConfig off = load("tollgate.warmup { reloads = 0 }").ops();
    assertThat(off.reloadRehearsals(10_000)).isZero();
    OpsConfig some = load("tollgate.warmup { reloads = 7 }").ops();
    assertThat(some.reloadRehearsals(3)).isEqualTo(7);
    assertThat(some.warmupHandshakes())
        .as("handshakes keeps its default")
        .isEqualTo(OpsConfig.HANDSHAKES_AUTO);
  }

  @Test
  void refusesReloadsThatAreNeitherAutoNorANumberInRangeNamingFileLineAndKey() {
    assertThatThrownBy(() -> load("tollgate.warmup {\n  reloads = sometimes\n}"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("tollgate.conf:3")
        .hasMessageContaining("tollgate.warmup.reloads")
        .hasMessageContaining("neither auto nor a number");
    assertThatThrownBy(() -> load("tollgate.warmup {\n  reloads = 101\n}"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("tollgate.conf:3")
        .hasMessageContaining("0..100");
    assertThatThrownBy(() -> load("tollgate.warmup { reloads = -1 }"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("0..100");
  }
}
