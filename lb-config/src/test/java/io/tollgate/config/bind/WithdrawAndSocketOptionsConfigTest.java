package io.tollgate.config.bind;

import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.config.ConfigException;
import io.tollgate.config.ConfigFiles;
import io.tollgate.config.ConfigLoader;
import io.tollgate.config.ListenerConfig;
import io.tollgate.config.TollgateConfig;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 11's keys: {@code timeouts.withdraw} and the listener socket options {@code reuse-port} and
 * {@code freebind}: defaults, values as written, and mistakes at their line.
 */
class WithdrawAndSocketOptionsConfigTest {
  @TempDir Path dir;

  private static final String POOL = "tollgate.pools.p.servers = [\"10.0.0.1:443\"]\n";
  private static final String MAIN =
      "tollgate.listeners = [ { name = main, address = \"127.0.0.1:8443\" } ]\n";

  private TollgateConfig load(String text) throws ConfigException {
    return ConfigLoader.load(new ConfigFiles(dir).write("tollgate.conf", POOL + text));
  }

  private ConfigFiles.Loaded broken(String text) {
    return new ConfigFiles(dir).loadBroken(POOL + text);
  }

  @Test
  void withdrawDefaultsToZeroAndIsReadAsWritten() throws Exception {
    assertThat(load(MAIN).timeouts().withdraw()).isZero();
    assertThat(load(MAIN + "tollgate.timeouts.withdraw = 15s").timeouts().withdraw())
        .isEqualTo(Duration.ofSeconds(15));
    assertThat(load(MAIN + "tollgate.timeouts { withdraw = 0, drain = 5s }").timeouts().withdraw())
        .isZero();
  }

  @Test
  void withdrawThatIsNotADurationOrNegativeIsAnErrorAtItsLine() {
    var text = broken(MAIN + "tollgate.timeouts.withdraw = soon\n");
    assertThat(text.onlyErrorAt("withdraw = soon", "tollgate.timeouts.withdraw").message())
        .contains("is not a duration (expected a duration such as 10s, or 0");
    var negative = broken(MAIN + "tollgate.timeouts.withdraw = -5s\n");
    assertThat(negative.onlyErrorAt("withdraw = -5s", "tollgate.timeouts.withdraw").message())
        .contains("is negative");
  }

  @Test
  void aTypoOfWithdrawIsAnUnknownKeyWithASuggestion() {
    var loaded = broken(MAIN + "tollgate.timeouts.withdrew = 10s\n");
    assertThat(loaded.onlyErrorAt("withdrew", "tollgate.timeouts.withdrew").message())
        .isEqualTo("unknown key \"withdrew\" in timeouts (did you mean \"withdraw\"?)");
  }

  @Test
  void socketOptionsAreOffByDefaultAndReadAsWritten() throws Exception {
    ListenerConfig plain = load(MAIN).listeners().get(0);
    assertThat(plain.reusePort()).isFalse();
    assertThat(plain.freebind()).isFalse();

    TollgateConfig c =
        load(
            """
            tollgate.listeners = [
              { name = a, address = "127.0.0.1:8443", reuse-port = true, freebind = true }
              { name = b, address = "127.0.0.1:8444", reuse-port = false, freebind = on }
            ]
            """);
    assertThat(c.listeners().get(0).reusePort()).isTrue();
    assertThat(c.listeners().get(0).freebind()).isTrue();
    assertThat(c.listeners().get(1).reusePort()).isFalse();
    assertThat(c.listeners().get(1).freebind()).isTrue();
  }

  @Test
  void socketOptionsThatAreNotBooleansAreErrorsAtTheirLine() {
    var loaded =
        broken(
            """
            tollgate.listeners = [ { name = main, address = "127.0.0.1:8443",
                                     reuse-port = sometimes,
                                     freebind = 2 } ]
            """);
    assertThat(loaded.errorAt("sometimes", "tollgate.listeners[0].reuse-port").message())
        .contains("expected true or false");
    assertThat(loaded.errorAt("freebind = 2", "tollgate.listeners[0].freebind").message())
        .contains("expected true or false");
    assertThat(loaded.errors()).hasSize(2);
  }

  @Test
  void aTypoOfASocketOptionIsAnUnknownKeyWithASuggestion() {
    var loaded =
        broken(
            """
            tollgate.listeners = [ { name = main, address = "127.0.0.1:8443",
                                     reuseport = true, free-bind = true } ]
            """);
    assertThat(loaded.errorAt("reuseport", "tollgate.listeners[0].reuseport").message())
        .contains("did you mean \"reuse-port\"?");
    assertThat(loaded.errorAt("free-bind", "tollgate.listeners[0].free-bind").message())
        .contains("did you mean \"freebind\"?");
  }

  @Test
  void socketOptionsWithTheNioTransportAreErrorsAtTheirLine() throws Exception {
    var loaded =
        broken(
            """
            tollgate.io.transport = nio
            tollgate.listeners = [ { name = main, address = "127.0.0.1:8443",
                                     reuse-port = true,
                                     freebind = true } ]
            """);
    assertThat(loaded.errorAt("reuse-port = true", "tollgate.listeners[0].reuse-port").message())
        .isEqualTo(
            "reuse-port = true needs a native transport, but io.transport = nio (expected"
                + " io.transport = auto, epoll or io_uring on Linux, or no reuse-port)");
    assertThat(loaded.errorAt("freebind = true", "tollgate.listeners[0].freebind").message())
        .startsWith("freebind = true needs a native transport");
    assertThat(loaded.errors()).hasSize(2);

    // Off is fine with NIO; auto is checked when the listener is bound.
    assertThat(
            load("""
                tollgate.io.transport = nio
                tollgate.listeners = [ { name = main, address = "127.0.0.1:8443",
                                         reuse-port = false } ]
                """)
                .listeners()
                .get(0)
                .reusePort())
        .isFalse();
    assertThat(
            load("""
                tollgate.listeners = [ { name = main, address = "127.0.0.1:8443",
                                         freebind = true } ]
                """)
                .listeners()
                .get(0)
                .freebind())
        .isTrue();
  }
}
