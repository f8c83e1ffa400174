package io.tollgate.config.bind;

import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.config.AccessRules;
import io.tollgate.config.Cidr;
import io.tollgate.config.ConfigException;
import io.tollgate.config.ConfigFiles;
import io.tollgate.config.ConfigLoader;
import io.tollgate.config.DefaultRoute;
import io.tollgate.config.RouteMode;
import io.tollgate.config.TollgateConfig;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 13's routing, access and socket keys: {@code routes[].listeners}, {@code
 * listeners[].default-route}, {@code allow-from}/{@code deny-from}, {@code servers[].backup},
 * {@code pools.*.source}, {@code timeouts.keepalive} and {@code max-lifetime}: defaults, values as
 * written, and mistakes at their line.
 */
class RoutingAccessConfigTest {
  @TempDir Path dir;

  private static final String BASE =
      """
      tollgate.pools.p.servers = ["10.0.0.1:443"]
      tollgate.listeners = [
        { name = edge-a, address = "127.0.0.1:8443" }
        { name = edge-b, address = "127.0.0.1:8444" }
      ]
      """;

  private TollgateConfig load(String text) throws ConfigException {
    return ConfigLoader.load(new ConfigFiles(dir).write("tollgate.conf", BASE + text));
  }

  private ConfigFiles.Loaded broken(String text) {
    return new ConfigFiles(dir).loadBroken(BASE + text);
  }

  @Test
  void defaultsAreEveryListenerEveryClientNoBackupNoSourceNoKeepaliveNoCap() throws Exception {
    TollgateConfig c = load("tollgate.routes = [ { hosts = [a.test], pool = p } ]\n");
    assertThat(c.routes().get(0).listeners()).isEmpty();
    assertThat(c.routes().get(0).access()).isEqualTo(AccessRules.NONE);
    assertThat(c.listeners().get(0).defaultRoute()).isEmpty();
    assertThat(c.listeners().get(0).access()).isEqualTo(AccessRules.NONE);
    assertThat(c.pool("p").servers().get(0).backup()).isFalse();
    assertThat(c.pool("p").source()).isEmpty();
    assertThat(c.timeouts().keepalive()).isZero();
    assertThat(c.timeouts().maxLifetime()).isZero();
  }

  @Test
  void keysAreReadAsWritten() throws Exception {
    TollgateConfig c =
        load(
            """
            tollgate.listeners = [
              { name = edge-a, address = "127.0.0.1:8443", deny-from = ["192.0.2.0/24"] }
              { name = edge-b, address = "127.0.0.1:8444", default-route { pool = q },
                allow-from = ["10.0.0.0/8", "::1"] }
            ]
            tollgate.routes = [
              { hosts = [a.test], pool = p, listeners = [edge-a], allow-from = ["127.0.0.1"] }
            ]
            tollgate.pools.q {
              servers = ["10.0.0.2:443", { address = "10.0.0.3:443", backup = true }]
              source = "127.0.0.2"
            }
            tollgate.timeouts { keepalive = 30s, max-lifetime = 1h }
            """);
    assertThat(c.routes().get(0).listeners()).containsExactly("edge-a");
    assertThat(c.routes().get(0).access().allowFrom()).containsExactly(cidr("127.0.0.1"));
    assertThat(c.listeners().get(0).access().denyFrom()).containsExactly(cidr("192.0.2.0/24"));
    assertThat(c.listeners().get(1).access().allowFrom())
        .containsExactly(cidr("10.0.0.0/8"), cidr("::1"));
    assertThat(c.listeners().get(1).defaultRoute())
        .contains(DefaultRoute.toPool(RouteMode.PASSTHROUGH, "q"));
    assertThat(c.pool("q").servers()).extracting(s -> s.backup()).containsExactly(false, true);
    assertThat(c.pool("q").source()).contains(InetAddress.getByName("127.0.0.2"));
    assertThat(c.timeouts().keepalive()).isEqualTo(Duration.ofSeconds(30));
    assertThat(c.timeouts().maxLifetime()).isEqualTo(Duration.ofHours(1));
  }

  @Test
  void anUnknownListenerNameIsAnErrorAtItsLineNamingTheListeners() {
    var loaded =
        broken("tollgate.routes = [ { hosts = [a.test], pool = p, listeners = [edge-aa] } ]\n");
    assertThat(loaded.only("edge-aa", "tollgate.routes[0].listeners[0]"))
        .isEqualTo(
            "no listener named \"edge-aa\" (did you mean \"edge-a\"? defined listeners: edge-a,"
                + " edge-b)");
    assertThat(
            broken("tollgate.routes = [ { hosts = [a.test], pool = p, listeners = [] } ]\n")
                .only("listeners = []", "tollgate.routes[0].listeners"))
        .startsWith("listeners is empty");
  }

  @Test
  void networksThatAreNotNetworksAreErrorsAtTheirLine() {
    var loaded =
        broken(
            "tollgate.routes = [ { hosts = [a.test], pool = p, deny-from = [\"example.com\"] }"
                + " ]\n");
    assertThat(loaded.only("example.com", "tollgate.routes[0].deny-from[0]"))
        .startsWith("\"example.com\" is not a network");
    assertThat(
            broken(
                    "tollgate.listeners = [ { name = x, address = \"127.0.0.1:1\","
                        + " allow-from = [] } ]\n")
                .only("allow-from = []", "tollgate.listeners[0].allow-from"))
        .startsWith("allow-from is empty");
    assertThat(
            broken("tollgate.pools.p.source = \"10.0.0.0/8\"\n")
                .only("source", "tollgate.pools.p.source"))
        .startsWith("\"10.0.0.0/8\" is not an IP address");
    assertThat(
            broken("tollgate.pools.p.source = localhost\n")
                .only("source", "tollgate.pools.p.source"))
        .startsWith("\"localhost\" is not an IP address");
  }

  @Test
  void aListenerDefaultRouteIsCheckedAsTheTopLevelOne() {
    var loaded =
        broken(
            "tollgate.listeners = [ { name = x, address = \"127.0.0.1:1\","
                + " default-route { pool = nope } } ]\n");
    assertThat(loaded.only("nope", "tollgate.listeners[0].default-route.pool"))
        .startsWith("no pool named \"nope\"");
  }

  @Test
  void keepaliveAndMaxLifetimeAreNonNegativeDurations() {
    assertThat(
            broken("tollgate.timeouts.keepalive = -1s\n")
                .only("keepalive", "tollgate.timeouts.keepalive"))
        .contains("is negative");
    assertThat(
            broken("tollgate.timeouts.max-lifetime = forever\n")
                .only("max-lifetime", "tollgate.timeouts.max-lifetime"))
        .contains("is not a duration");
    assertThat(
            broken(
                    "tollgate.pools.p.servers = [ { address = \"10.0.0.1:443\", backup = maybe } ]\n")
                .only("backup", "tollgate.pools.p.servers[0].backup"))
        .contains("true or false");
  }

  @Test
  void aPoolOfBackupsOnlyIsWarnedAbout() throws Exception {
    TollgateConfig c =
        load("tollgate.pools.q.servers = [ { address = \"10.0.0.1:443\", backup = true } ]\n");
    assertThat(c.warnings())
        .anySatisfy(
            w -> {
              assertThat(w.path()).isEqualTo("tollgate.pools.q.servers");
              assertThat(w.message()).startsWith("every server of the pool is a backup");
            });
  }

  private static Cidr cidr(String text) {
    return Cidr.parse(text).orElseThrow();
  }
}
