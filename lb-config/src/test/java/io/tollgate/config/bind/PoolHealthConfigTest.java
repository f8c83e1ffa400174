package io.tollgate.config.bind;

import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.config.BalanceConfig;
import io.tollgate.config.BalanceConfig.Algorithm;
import io.tollgate.config.BalanceConfig.OnAllDown;
import io.tollgate.config.ConfigException;
import io.tollgate.config.ConfigFiles;
import io.tollgate.config.ConfigLoader;
import io.tollgate.config.HealthCheckConfig;
import io.tollgate.config.HealthCheckConfig.Initial;
import io.tollgate.config.HealthCheckConfig.Type;
import io.tollgate.config.PassiveEjectionConfig;
import io.tollgate.config.PoolConfig;
import io.tollgate.config.TollgateConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Pool keys for health checks, balancing, passive ejection and max-connections. */
class PoolHealthConfigTest {
  @TempDir Path dir;

  private static final String HEAD =
      """
      tollgate.listeners = [ { name = main, address = "127.0.0.1:8443" } ]
      """;

  private TollgateConfig load(String text) throws ConfigException {
    return ConfigLoader.load(new ConfigFiles(dir).write("tollgate.conf", HEAD + text));
  }

  private ConfigFiles.Loaded broken(String text) {
    return new ConfigFiles(dir).loadBroken(HEAD + text);
  }

  @Test
  void poolWithoutTheNewKeysHasNoCheckRoundRobinAndDefaultPassiveEjection() throws Exception {
    PoolConfig p = load("tollgate.pools.p.servers = [\"10.0.0.1:443\"]\n").pool("p");

    assertThat(p.healthCheck()).isEmpty();
    assertThat(p.balance()).isEqualTo(BalanceConfig.DEFAULTS);
    assertThat(p.passive()).isEqualTo(PassiveEjectionConfig.DEFAULTS);
    assertThat(p.servers().get(0).maxConnections()).isZero();
  }

  @Test
  void emptyHealthCheckBlockTakesHaproxyLikeDefaults() throws Exception {
    PoolConfig p =
        load("""
        tollgate.pools.p { servers = ["10.0.0.1:443"], health-check {} }
        """)
            .pool("p");

    assertThat(p.healthCheck()).contains(HealthCheckConfig.defaults(Type.TCP));
    HealthCheckConfig c = p.healthCheck().orElseThrow();
    assertThat(c.interval()).isEqualTo(Duration.ofSeconds(2));
    assertThat(c.fastInterval()).isEqualTo(Duration.ofSeconds(1));
    assertThat(c.downInterval()).isEqualTo(Duration.ofSeconds(4));
    assertThat(c.timeout()).isEqualTo(Duration.ofSeconds(1));
    assertThat(c.rise()).isEqualTo(2);
    assertThat(c.fall()).isEqualTo(3);
    assertThat(c.jitterPercent()).isEqualTo(10);
    assertThat(c.initial()).isEqualTo(Initial.DOWN);
  }

  @Test
  void readsEveryKeyAsWritten() throws Exception {
    PoolConfig p =
        load("""
        tollgate.pools.p {
          servers = ["10.0.0.1:443", { address = "10.0.0.2:443", weight = 3, max-connections = 50 }]
          health-check {
            type = HTTPS, interval = 500ms, fast-interval = 100ms, down-interval = 5s
            timeout = 300ms, rise = 4, fall = 5, jitter = "20%", path = "/healthz"
            host = "app.test", expect-status = "200-299", expect-body = "ok"
            server-name = "sni.test", initial = up
          }
          balance = least-conn
          slow-start = 30s
          on-all-down = try-all
          passive-ejection { failures = 5, backoff = 1m }
        }
        """)
            .pool("p");

    assertThat(p.healthCheck())
        .contains(
            new HealthCheckConfig(
                Type.HTTPS,
                Duration.ofMillis(500),
                Duration.ofMillis(100),
                Duration.ofSeconds(5),
                Duration.ofMillis(300),
                4,
                5,
                20,
                "/healthz",
                Optional.of("app.test"),
                200,
                299,
                Optional.of("ok"),
                Optional.of("sni.test"),
                Initial.UP));
    assertThat(p.balance())
        .isEqualTo(
            new BalanceConfig(Algorithm.LEAST_CONN, Duration.ofSeconds(30), OnAllDown.TRY_ALL));
    assertThat(p.passive()).isEqualTo(new PassiveEjectionConfig(5, Duration.ofMinutes(1)));
    assertThat(p.servers().get(1).maxConnections()).isEqualTo(50);
    assertThat(p.servers().get(1).weight()).isEqualTo(3);
  }

  @Test
  void verifyOnTheCheckOverridesThePoolsAndFalseIsWarnedAbout() throws Exception {
    TollgateConfig config =
        load(
            """
        tollgate.pools.p { servers = ["10.0.0.1:443"], health-check { type = tls, verify = false } }
        tollgate.pools.q { servers = ["10.0.0.2:443"], tls { verify = false }, health-check { type = tls } }
        """);
    HealthCheckConfig p = config.pool("p").healthCheck().orElseThrow();
    assertThat(p.verify()).contains(false);
    assertThat(p.verifies(true)).isFalse();
    HealthCheckConfig q = config.pool("q").healthCheck().orElseThrow();
    assertThat(q.verify()).isEmpty();
    assertThat(q.verifies(false)).as("the pool's verify = false").isFalse();
    assertThat(q.verifies(true)).isTrue();
    assertThat(config.warnings())
        .anySatisfy(
            w -> {
              assertThat(w.path()).isEqualTo("tollgate.pools.p.health-check.verify");
              assertThat(w.message()).contains("does not verify the servers' certificates");
            });
    var loaded =
        broken(
            "tollgate.pools.p { servers = [\"10.0.0.1:443\"], health-check { verify = maybe } }\n");
    assertThat(loaded.errorAt("verify", "tollgate.pools.p.health-check.verify").message())
        .contains("true or false");
  }

  @Test
  void fastAndDownIntervalsFollowAnExplicitInterval() throws Exception {
    HealthCheckConfig c =
        load("""
        tollgate.pools.p { servers = ["10.0.0.1:443"], health-check { interval = 10s, jitter = 0 } }
        """)
            .pool("p")
            .healthCheck()
            .orElseThrow();

    assertThat(c.fastInterval()).isEqualTo(Duration.ofSeconds(5));
    assertThat(c.downInterval()).isEqualTo(Duration.ofSeconds(20));
    assertThat(c.jitterPercent()).isZero();
  }

  @Test
  void acceptsEveryBalanceSpelling() throws Exception {
    for (Algorithm a : Algorithm.values()) {
      PoolConfig p =
          load("tollgate.pools.p { servers = [\"10.0.0.1:443\"], balance = "
                  + a.configName()
                  + " }\n")
              .pool("p");
      assertThat(p.balance().algorithm()).isEqualTo(a);
    }
  }

  @Test
  void reportsEachBadValueAtItsKey() {
    var loaded =
        broken(
            """
        tollgate.pools.p {
          servers = [{ address = "10.0.0.1:443", max-connections = -1 }]
          health-check {
            type = udp
            rise = 0
            jitter = "80%"
            expect-status = "2xx"
            path = "healthz"
            intervall = 1s
          }
          balance = least-connections
          slow-start = -1s
          on-all-down = panic
          passive-ejection { failures = many }
        }
        """);

    assertThat(
            loaded
                .errorAt("max-connections", "tollgate.pools.p.servers[0].max-connections")
                .message())
        .contains("out of range (expected 0..");
    assertThat(loaded.errorAt("type = udp", "tollgate.pools.p.health-check.type").message())
        .contains("not a valid health-check type (expected one of: tcp, tls, http, https)");
    assertThat(loaded.errorAt("rise = 0", "tollgate.pools.p.health-check.rise").message())
        .contains("out of range (expected 1..100)");
    assertThat(loaded.errorAt("jitter", "tollgate.pools.p.health-check.jitter").message())
        .contains("out of range (expected 0%..50%)");
    assertThat(loaded.errorAt("2xx", "tollgate.pools.p.health-check.expect-status").message())
        .contains("not an HTTP status or range");
    assertThat(loaded.errorAt("path =", "tollgate.pools.p.health-check.path").message())
        .contains("does not start with \"/\"");
    assertThat(loaded.errorAt("intervall", "tollgate.pools.p.health-check.intervall").message())
        .contains("did you mean \"interval\"?");
    assertThat(loaded.errorAt("balance", "tollgate.pools.p.balance").message())
        .contains("did you mean \"least-conn\"?");
    assertThat(loaded.errorAt("slow-start", "tollgate.pools.p.slow-start").message())
        .contains("is negative");
    assertThat(loaded.errorAt("panic", "tollgate.pools.p.on-all-down").message())
        .contains("expected one of: reject, try-all");
    assertThat(loaded.errorAt("failures", "tollgate.pools.p.passive-ejection.failures").message())
        .contains("not a whole number");
    assertThat(loaded.errors()).hasSize(11);
  }
}
