package io.tollgate.config.bind;

import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.config.ConfigException;
import io.tollgate.config.ConfigFiles;
import io.tollgate.config.ConfigLoader;
import io.tollgate.config.HandshakeLimits;
import io.tollgate.config.TollgateConfig;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 16's handshake admission keys: {@code limits.per-route} and {@code routes[].limits} ({@code
 * handshakes-per-second}, {@code handshakes-burst}, {@code concurrent-handshakes}): defaults, the
 * route overriding the default key by key, and mistakes at their line.
 */
class HandshakeLimitsConfigTest {
  @TempDir Path dir;

  private static final String BASE =
      """
      tollgate.pools.p.servers = ["10.0.0.1:443"]
      tollgate.listeners = [ { name = main, address = "127.0.0.1:8443" } ]
      """;

  private static final String OFFLOAD =
      "mode = offload, certificate { chain = c.pem, key = c.pem }";

  @BeforeEach
  void certificateFile() {
    new ConfigFiles(dir).write("c.pem", "");
  }

  private TollgateConfig load(String text) throws ConfigException {
    return ConfigLoader.load(new ConfigFiles(dir).write("tollgate.conf", BASE + text));
  }

  private ConfigFiles.Loaded broken(String text) {
    return new ConfigFiles(dir).loadBroken(BASE + text);
  }

  @Test
  void offByDefault() throws Exception {
    TollgateConfig c =
        load("tollgate.routes = [ { hosts = [a.test], pool = p, " + OFFLOAD + " } ]\n");
    assertThat(c.limits().perRoute()).isEqualTo(HandshakeLimits.NONE);
    assertThat(c.routes().get(0).handshakes()).isEqualTo(HandshakeLimits.NONE);
  }

  @Test
  void aRouteTakesTheDefaultsAndOverridesThemKeyByKey() throws Exception {
    TollgateConfig c =
        load(
            "tollgate.limits.per-route { handshakes-per-second = 100, concurrent-handshakes = 20 }\n"
                + "tollgate.routes = [\n"
                + "  { hosts = [a.test], pool = p, "
                + OFFLOAD
                + " }\n"
                + "  { hosts = [b.test], pool = p, "
                + OFFLOAD
                + ", limits { handshakes-per-second = 5 } }\n"
                + "  { hosts = [c.test], pool = p, "
                + OFFLOAD
                + ", limits { handshakes-burst = 300, concurrent-handshakes = 0 } }\n"
                + "  { hosts = [d.test], pool = p }\n"
                + "]\n");
    assertThat(c.limits().perRoute()).isEqualTo(new HandshakeLimits(100, 100, 20));
    assertThat(c.routes().get(0).handshakes()).isEqualTo(new HandshakeLimits(100, 100, 20));
    // Its own rate, so a burst of its own (one second's worth), and the default cap.
    assertThat(c.routes().get(1).handshakes()).isEqualTo(new HandshakeLimits(5, 5, 20));
    assertThat(c.routes().get(2).handshakes()).isEqualTo(new HandshakeLimits(100, 300, 0));
    // Passthrough: Tollgate does no handshake there, so nothing to admit.
    assertThat(c.routes().get(3).handshakes()).isEqualTo(HandshakeLimits.NONE);
  }

  @Test
  void theBurstDefaultsToTheRate() throws Exception {
    assertThat(
            load("tollgate.limits.per-route { handshakes-per-second = 7 }\n").limits().perRoute())
        .isEqualTo(new HandshakeLimits(7, 7, 0));
    assertThat(
            load("tollgate.limits.per-route { handshakes-per-second = 7, handshakes-burst = 1 }\n")
                .limits()
                .perRoute())
        .isEqualTo(new HandshakeLimits(7, 1, 0));
  }

  @Test
  void negativeOrNonNumericValuesAreErrorsAtTheirLine() {
    assertThat(
            broken(
                    "tollgate.routes = [ { hosts = [a.test], pool = p, "
                        + OFFLOAD
                        + ",\n  limits { handshakes-per-second = -1 } } ]\n")
                .only("handshakes-per-second", "tollgate.routes[0].limits.handshakes-per-second"))
        .isEqualTo("-1 is out of range (expected 0..1000000)");
    assertThat(
            broken("tollgate.limits.per-route.concurrent-handshakes = lots\n")
                .only("lots", "tollgate.limits.per-route.concurrent-handshakes"))
        .startsWith("\"lots\" is not a whole number");
    assertThat(
            broken(
                    "tollgate.limits.per-route { handshakes-per-second = 5, handshakes-burst = 0 }\n")
                .only("handshakes-burst", "tollgate.limits.per-route.handshakes-burst"))
        .isEqualTo("0 is out of range (expected 1..1000000)");
  }

  @Test
  void aBurstWithoutARateIsAnError() {
    assertThat(
            broken(
                    "tollgate.routes = [ { hosts = [a.test], pool = p, "
                        + OFFLOAD
                        + ",\n  limits { handshakes-burst = 10 } } ]\n")
                .only("handshakes-burst", "tollgate.routes[0].limits.handshakes-burst"))
        .startsWith("handshakes-burst has no effect without a handshake rate");
  }

  @Test
  void limitsOnAPassthroughRouteAreAnError() {
    assertThat(
            broken(
                    "tollgate.routes = [ { hosts = [a.test], pool = p,\n"
                        + "  limits { concurrent-handshakes = 3 } } ]\n")
                .only("limits", "tollgate.routes[0].limits"))
        .startsWith("handshake limits are for offload and reencrypt routes");
  }

  @Test
  void anUnknownKeyIsNamedWithASuggestion() {
    assertThat(
            broken(
                    "tollgate.routes = [ { hosts = [a.test], pool = p, "
                        + OFFLOAD
                        + ",\n  limits { handshake-per-second = 3 } } ]\n")
                .only("handshake-per-second", "tollgate.routes[0].limits.handshake-per-second"))
        .contains("did you mean \"handshakes-per-second\"");
  }
}
