package io.tollgate.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tollgate.warmup { handshakes = N }}: off by default, read, and refused when invalid. */
class WarmupConfigTest {
  @TempDir Path dir;

  private static final String LISTENER =
      "tollgate.listeners = [ { name = main, address = \"127.0.0.1:8443\" } ]\n";

  private TollgateConfig load(String text) throws ConfigException {
    return ConfigLoader.load(new ConfigFiles(dir).write("tollgate.conf", LISTENER + text));
  }

  @Test
  void offByDefault() throws Exception {
    assertThat(load("").ops().warmupHandshakes()).isZero();
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
    assertThatThrownBy(() -> load("tollgate.warmup { handshake = 10 }"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("did you mean \"handshakes\"");
  }
}
