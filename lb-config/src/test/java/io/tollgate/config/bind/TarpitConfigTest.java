package io.tollgate.config.bind;

import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.config.ConfigException;
import io.tollgate.config.ConfigFiles;
import io.tollgate.config.ConfigLoader;
import io.tollgate.config.TarpitLimits;
import io.tollgate.config.TollgateConfig;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 16's {@code limits.tarpit { delay, max-held, max-held-per-route }}: the defaults, a partial
 * override, and mistakes at their line.
 */
class TarpitConfigTest {
  @TempDir Path dir;

  private static final String BASE =
      """
      tollgate.pools.p.servers = ["10.0.0.1:443"]
      tollgate.listeners = [ { name = main, address = "127.0.0.1:8443" } ]
      """;

  private TollgateConfig load(String text) throws ConfigException {
    return ConfigLoader.load(new ConfigFiles(dir).write("tollgate.conf", BASE + text));
  }

  private ConfigFiles.Loaded broken(String text) {
    return new ConfigFiles(dir).loadBroken(BASE + text);
  }

  @Test
  void oneSecondTenThousandAndOneThousandPerRouteByDefault() throws Exception {
    assertThat(load("").limits().tarpit()).isEqualTo(TarpitLimits.DEFAULT);
    assertThat(TarpitLimits.DEFAULT)
        .isEqualTo(new TarpitLimits(Duration.ofSeconds(1), 10_000, 1_000));
  }

  @Test
  void keysOverrideOneByOneAndAZeroDelayTurnsItOff() throws Exception {
    TarpitLimits t =
        load("tollgate.limits.tarpit { delay = 250ms, max-held-per-route = 5 }\n")
            .limits()
            .tarpit();
    assertThat(t).isEqualTo(new TarpitLimits(Duration.ofMillis(250), 10_000, 5));
    assertThat(t.holds()).isTrue();
    assertThat(load("tollgate.limits.tarpit.delay = 0\n").limits().tarpit().holds()).isFalse();
    assertThat(load("tollgate.limits.tarpit.max-held = 0\n").limits().tarpit().holds()).isFalse();
  }

  @Test
  void handshakesTakeHalfAWorkerNextToOtherTenantsByDefaultAndTheShareIsSet() throws Exception {
    assertThat(load("").limits().handshakeSharePercent()).isEqualTo(35);
    assertThat(load("tollgate.limits.handshake-share-percent = 100\n").limits())
        .extracting(l -> l.handshakeSharePercent())
        .isEqualTo(100);
    assertThat(
            broken("tollgate.limits.handshake-share-percent = 5\n")
                .only("handshake-share-percent", "tollgate.limits.handshake-share-percent"))
        .isEqualTo("5 is out of range (expected 10..100)");
  }

  @Test
  void mistakesAreErrorsAtTheirLine() {
    assertThat(
            broken("tollgate.limits.tarpit.delay = 2m\n")
                .only("2m", "tollgate.limits.tarpit.delay"))
        .startsWith("\"2m\" is too long");
    assertThat(
            broken("tollgate.limits.tarpit.delay = -1s\n")
                .only("-1s", "tollgate.limits.tarpit.delay"))
        .contains("is negative");
    assertThat(
            broken("tollgate.limits.tarpit.max-held = -1\n")
                .only("max-held", "tollgate.limits.tarpit.max-held"))
        .isEqualTo("-1 is out of range (expected 0..10000000)");
    assertThat(
            broken("tollgate.limits.tarpit { max-held-per-rout = 3 }\n")
                .only("max-held-per-rout", "tollgate.limits.tarpit.max-held-per-rout"))
        .contains("did you mean \"max-held-per-route\"");
  }
}
