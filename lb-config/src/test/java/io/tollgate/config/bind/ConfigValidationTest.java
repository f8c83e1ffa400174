package io.tollgate.config.bind;

import static io.tollgate.config.ConfigFiles.VALID;
import static io.tollgate.config.ConfigFiles.validWith;
import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.config.ConfigError;
import io.tollgate.config.ConfigException;
import io.tollgate.config.ConfigFiles;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each kind of mistake yields an error at the right {@code file:line} and key path, saying what was
 * expected. Files are real, so line numbers come from typesafe-config's own parse.
 */
class ConfigValidationTest {
  @TempDir Path dir;
  private ConfigFiles files;

  @BeforeEach
  void setUp() {
    files = new ConfigFiles(dir);
  }

  private ConfigFiles.Loaded broken(String text) {
    return files.loadBroken(text);
  }

  // ---- unknown keys

  @Test
  void reportsUnknownKeyWithSuggestion() {
    var loaded = broken(validWith("connect = 3s", "conect = 3s"));

    assertThat(loaded.onlyErrorAt("conect", "tollgate.timeouts.conect").message())
        .isEqualTo("unknown key \"conect\" in timeouts (did you mean \"connect\"?)");
  }

  @Test
  void reportsUnknownKeyWithoutCloseMatchByListingKnownKeys() {
    var loaded = broken(validWith("limits {", "limits { banana = 1,"));

    assertThat(loaded.onlyErrorAt("banana", "tollgate.limits.banana").message())
        .isEqualTo(
            "unknown key \"banana\" in limits (expected one of: max-client-hello, max-connections, per-source, per-route, tarpit,"
                + " handshake-share-percent, receive-buffer)");
  }

  @Test
  void reportsUnknownKeyInsideTollgateSuggestingByPrefix() {
    var loaded = broken(validWith("  io {", "  default = reject\n  io {"));

    assertThat(loaded.onlyErrorAt("default = reject", "tollgate.default").message())
        .isEqualTo("unknown key \"default\" in tollgate (did you mean \"default-route\"?)");
  }

  @Test
  void reportsUnknownKeyInsideRouteElement() {
    var loaded = broken(validWith("{ hosts = [\"*.wild.test\"]", "{ host = [\"*.wild.test\"]"));

    assertThat(loaded.errorAt("*.wild.test", "tollgate.routes[1].host").message())
        .contains("did you mean \"hosts\"?");
    assertThat(loaded.errorAt("*.wild.test", "tollgate.routes[1].hosts").message())
        .startsWith("missing required key \"hosts\"");
  }

  @Test
  void reportsUnknownKeyInsidePoolAndServerObjects() {
    var loaded =
        broken(
            validWith("weight = 2 }], connect-attempts = 3", "wieght = 2 }], connect-attemps = 3"));

    assertThat(loaded.errorAt("wieght", "tollgate.pools.wild.servers[0].wieght").message())
        .contains("did you mean \"weight\"?");
    assertThat(loaded.errorAt("wieght", "tollgate.pools.wild.connect-attemps").message())
        .contains("did you mean \"connect-attempts\"?");
  }

  @Test
  void reportsTopLevelKeyThatLooksLikeATypoOfTollgate() {
    var loaded = broken(VALID + "tolgate { io.transport = nio }\n");

    assertThat(loaded.onlyErrorAt("tolgate", "tolgate").message())
        .isEqualTo("unknown top-level key \"tolgate\" (did you mean \"tollgate\"?)");
  }

  // ---- wrong types and values

  @Test
  void reportsStringWhereListExpected() {
    var loaded = broken(validWith("hosts = [\"*.wild.test\"]", "hosts = \"*.wild.test\""));

    assertThat(loaded.onlyErrorAt("*.wild.test", "tollgate.routes[1].hosts").message())
        .startsWith("expected a non-empty list of host names")
        .endsWith("got a string \"*.wild.test\"");
  }

  @Test
  void reportsObjectWhereStringExpected() {
    var loaded =
        broken(validWith("address = \"127.0.0.1:8443\"", "address = { host = \"127.0.0.1\" }"));

    assertThat(loaded.onlyErrorAt("listeners", "tollgate.listeners[0].address").message())
        .startsWith("expected an address such as")
        .endsWith("got an object");
  }

  @Test
  void reportsNonNumericWeight() {
    var loaded = broken(validWith("weight = 2", "weight = \"heavy\""));

    assertThat(loaded.onlyErrorAt("heavy", "tollgate.pools.wild.servers[0].weight").message())
        .isEqualTo("\"heavy\" is not a whole number (expected 1..256)");
  }

  @Test
  void reportsWeightOutOfRange() {
    var loaded = broken(validWith("weight = 2", "weight = 300"));

    assertThat(loaded.onlyErrorAt("300", "tollgate.pools.wild.servers[0].weight").message())
        .isEqualTo("300 is out of range (expected 1..256)");
  }

  @Test
  void reportsFractionalNumberWhereWholeNumberExpected() {
    var loaded = broken(validWith("connect-attempts = 3", "connect-attempts = 2.5"));

    assertThat(loaded.onlyErrorAt("2.5", "tollgate.pools.wild.connect-attempts").message())
        .isEqualTo("2.5 is not a whole number (expected 1..100)");
  }

  @Test
  void reportsConnectAttemptsBelowOne() {
    var loaded = broken(validWith("connect-attempts = 3", "connect-attempts = 0"));

    assertThat(
            loaded
                .onlyErrorAt("connect-attempts", "tollgate.pools.wild.connect-attempts")
                .message())
        .isEqualTo("0 is out of range (expected 1..100)");
  }

  @Test
  void reportsNegativeWorkerThreads() {
    var loaded = broken(validWith("worker-threads = 0", "worker-threads = -1"));

    assertThat(loaded.onlyErrorAt("worker-threads", "tollgate.io.worker-threads").message())
        .isEqualTo("-1 is out of range (expected 0..1024)");
  }

  @Test
  void reportsDurationThatIsNotADuration() {
    var loaded = broken(validWith("client-hello = 5s", "client-hello = fast"));

    assertThat(loaded.onlyErrorAt("fast", "tollgate.timeouts.client-hello").message())
        .startsWith("\"fast\" is not a duration (expected a positive duration such as 5s");
  }

  @Test
  void reportsZeroDuration() {
    var loaded = broken(validWith("idle = 5m", "idle = 0s"));

    assertThat(loaded.onlyErrorAt("idle", "tollgate.timeouts.idle").message())
        .isEqualTo("\"0s\" is not positive (expected a positive duration such as 5m)");
  }

  @Test
  void reportsNegativeDuration() {
    var loaded = broken(validWith("connect = 3s", "connect = -3s"));

    assertThat(loaded.onlyErrorAt("connect", "tollgate.timeouts.connect").message())
        .contains("is not positive");
  }

  @Test
  void reportsSizeThatIsNotASize() {
    var loaded = broken(validWith("max-client-hello = 16k", "max-client-hello = lots"));

    assertThat(loaded.onlyErrorAt("lots", "tollgate.limits.max-client-hello").message())
        .startsWith("\"lots\" is not a size (expected a size in bytes such as 16k");
  }

  @Test
  void reportsSizeAboveTheCeiling() {
    var loaded = broken(validWith("max-client-hello = 16k", "max-client-hello = 128k"));

    assertThat(loaded.onlyErrorAt("128k", "tollgate.limits.max-client-hello").message())
        .isEqualTo("\"128k\" is out of range (expected 1k..64k, i.e. 1024..65536 bytes)");
  }

  @Test
  void reportsSizeBelowTheFloor() {
    var loaded = broken(validWith("max-client-hello = 16k", "max-client-hello = 512"));

    assertThat(loaded.onlyErrorAt("512", "tollgate.limits.max-client-hello").message())
        .startsWith("512 is out of range");
  }

  @Test
  void reportsUnknownTransportListingValidOnes() {
    var loaded = broken(validWith("transport = auto", "transport = iouring"));

    assertThat(loaded.onlyErrorAt("iouring", "tollgate.io.transport").message())
        .isEqualTo(
            "\"iouring\" is not a valid transport (expected one of: auto, epoll, io_uring, nio)"
                + " (did you mean \"io_uring\"?)");
  }

  @Test
  void reportsUnknownModeListingValidOnes() {
    var loaded = broken(validWith("mode = passthrough, pool = wild", "mode = tunnel, pool = wild"));

    assertThat(loaded.onlyErrorAt("tunnel", "tollgate.routes[1].mode").message())
        .isEqualTo(
            "\"tunnel\" is not a valid route mode (expected one of: passthrough,"
                + " offload, reencrypt)");
  }

  @Test
  void reportsSectionThatIsNotAnObject() {
    var loaded = broken(validWith("io { transport = auto, worker-threads = 0 }", "io = fast"));

    assertThat(loaded.onlyErrorAt("io = fast", "tollgate.io").message())
        .isEqualTo("expected an object such as { transport = auto }, got a string \"fast\"");
  }

  // ---- addresses

  @Test
  void reportsListenerPortOutOfRange() {
    var loaded = broken(validWith("127.0.0.1:8443", "10.0.0.1:99999"));

    assertThat(loaded.onlyErrorAt("99999", "tollgate.listeners[0].address").message())
        .isEqualTo(
            "\"10.0.0.1:99999\": \"99999\" is not a port (expected 1..65535, or 0 for any free port)");
  }

  @Test
  void reportsServerAddressWithoutPort() {
    var loaded = broken(validWith("\"127.0.0.1:9444\"", "\"backend.internal\""));

    assertThat(loaded.onlyErrorAt("backend.internal", "tollgate.pools.pass.servers[1]").message())
        .isEqualTo("\"backend.internal\" is not an address (expected host:port, or [ipv6]:port)");
  }

  @Test
  void reportsBadIpv6ServerAddress() {
    var loaded = broken(validWith("[::1]:9446", "[::1]9446"));

    assertThat(loaded.onlyErrorAt("[::1]9446", "tollgate.pools.fallback.servers[0]").message())
        .contains("is not an address (expected [ipv6]:port)");
  }

  @Test
  void reportsServerOfWrongType() {
    var loaded = broken(validWith("\"127.0.0.1:9444\"", "[9444]"));

    assertThat(loaded.onlyErrorAt("[9444]", "tollgate.pools.pass.servers[1]").message())
        .startsWith("expected a server: \"host:port\"")
        .endsWith("got a list");
  }

  @Test
  void reportsServerListedTwiceInAPool() {
    var loaded = broken(validWith("\"127.0.0.1:9444\"", "\"127.0.0.1:9443\""));

    assertThat(loaded.onlyErrorAt("pass {", "tollgate.pools.pass.servers[1]").message())
        .contains("already listed at tollgate.pools.pass.servers[0]")
        .contains("use weight");
  }

  // ---- listeners

  @Test
  void reportsDuplicateListenerNamesAndAddresses() {
    var loaded =
        broken(
            validWith(
                "listeners = [ { name = main, address = \"127.0.0.1:8443\" } ]",
                """
        listeners = [
            { name = main, address = "127.0.0.1:8443" }
            { name = main, address = "127.0.0.1:8444" }   # same name
            { name = alt, address = "127.0.0.1:8443" }    # same address
          ]"""));

    assertThat(loaded.errors()).hasSize(2);
    assertThat(loaded.errorAt("same name", "tollgate.listeners[1].name").message())
        .isEqualTo(
            "listener name \"main\" is already used by tollgate.listeners[0]"
                + " (expected a unique name)");
    assertThat(loaded.errorAt("same address", "tollgate.listeners[2].address").message())
        .startsWith(
            "\"127.0.0.1:8443\" is already used by listener \"main\"" + " (tollgate.listeners[0])");
  }

  @Test
  void reportsEmptyListenerList() {
    var loaded =
        broken(
            validWith(
                "listeners = [ { name = main, address = \"127.0.0.1:8443\" } ]", "listeners = []"));

    assertThat(loaded.onlyErrorAt("listeners = []", "tollgate.listeners").message())
        .startsWith("no listeners (expected a non-empty list of listeners");
  }

  @Test
  void reportsAbsentListenersAtTheTollgateObject() {
    var loaded =
        broken(
            """
        # nothing but a pool
        tollgate {
          pools.p.servers = ["10.0.0.1:443"]
        }
        """);

    assertThat(loaded.onlyErrorAt("tollgate {", "tollgate.listeners").message())
        .startsWith("no listeners");
  }

  @Test
  void reportsListenerMissingNameAndAddressAtTheElement() {
    var loaded = broken(validWith("{ name = main, address = \"127.0.0.1:8443\" }", "{ }"));

    assertThat(loaded.errors()).hasSize(2);
    assertThat(loaded.errorAt("listeners", "tollgate.listeners[0].name").message())
        .startsWith("missing required key \"name\" (expected a name such as main");
    assertThat(loaded.errorAt("listeners", "tollgate.listeners[0].address").message())
        .startsWith("missing required key \"address\"");
  }

  @Test
  void reportsInvalidListenerName() {
    var loaded = broken(validWith("name = main", "name = \"my listener\""));

    assertThat(loaded.onlyErrorAt("my listener", "tollgate.listeners[0].name").message())
        .startsWith("\"my listener\" is not a valid listener name");
  }

  // ---- routes

  @Test
  void refusesDefaultAsARoutesFirstHostWhichWouldShareTheDefaultRoutesCounters() {
    var loaded = broken(validWith("[\"*.wild.test\"]", "[\"Default\", \"*.wild.test\"]"));

    assertThat(loaded.onlyErrorAt("Default", "tollgate.routes[1].hosts[0]").message())
        .startsWith("\"default\" cannot be a route's first host");
  }

  @Test
  void reportsHostClaimedByAnEarlierRouteNamingThatRoute() {
    var loaded = broken(validWith("[\"*.wild.test\"]", "[\"*.wild.test\", \"WWW.pass.test.\"]"));

    assertThat(loaded.onlyErrorAt("*.wild.test", "tollgate.routes[1].hosts[1]").message())
        .isEqualTo(
            "\"WWW.pass.test.\" (www.pass.test) is already claimed by tollgate.routes[0] (\"pass.test\")"
                + " (expected each host in one route only)");
  }

  @Test
  void reportsHostListedTwiceInOneRoute() {
    var loaded = broken(validWith("[\"*.wild.test\"]", "[\"*.wild.test\", \"*.Wild.test\"]"));

    assertThat(loaded.onlyErrorAt("*.Wild.test", "tollgate.routes[1].hosts[1]").message())
        .isEqualTo(
            "\"*.Wild.test\" (*.wild.test) is listed twice in this route (expected each host once)");
  }

  @Test
  void reportsInvalidWildcards() {
    String text =
        validWith(
            "[\"*.wild.test\"]",
            """
        [
              "*wild.test"
              "a.*.test"
              "*"
              "*."
              "*.*.test"
            ]""");
    var loaded = broken(text);

    assertThat(loaded.errors()).hasSize(5);
    for (int i = 0; i < 5; i++) {
      String host =
          new String[] {"\"*wild.test\"", "\"a.*.test\"", "\"*\"", "\"*.\"", "\"*.*.test\""}[i];
      assertThat(loaded.errorAt(host, "tollgate.routes[1].hosts[" + i + "]").message())
          .startsWith(host + " is not a valid wildcard")
          .contains("expected");
    }
  }

  @Test
  void reportsIpLiteralAsRouteHostPointingToDefaultRoute() {
    var loaded = broken(validWith("[\"*.wild.test\"]", "[\"192.0.2.1\"]"));

    assertThat(loaded.onlyErrorAt("192.0.2.1", "tollgate.routes[1].hosts[0]").message())
        .contains("SNI never carries IP addresses")
        .contains("default-route");
  }

  @Test
  void reportsInvalidHostName() {
    var loaded = broken(validWith("[\"*.wild.test\"]", "[\"-bad.test\", \"a..test\"]"));

    assertThat(loaded.errors()).hasSize(2);
    assertThat(loaded.errorAt("-bad.test", "tollgate.routes[1].hosts[0]").message())
        .contains("is not a valid host name")
        .contains("starts or ends with '-'");
    assertThat(loaded.errorAt("-bad.test", "tollgate.routes[1].hosts[1]").message())
        .contains("empty label");
  }

  @Test
  void reportsRouteNamingUnknownPoolListingDefinedPools() {
    var loaded = broken(validWith("pool = wild }", "pool = wilde }"));

    assertThat(loaded.onlyErrorAt("wilde", "tollgate.routes[1].pool").message())
        .isEqualTo(
            "no pool named \"wilde\" (did you mean \"wild\"? defined pools: fallback,"
                + " pass, wild)");
  }

  @Test
  void reportsRouteMissingHostsAndPool() {
    var loaded =
        broken(
            validWith(
                "{ hosts = [\"*.wild.test\"], mode = passthrough, pool = wild }",
                "{ mode = passthrough }"));

    assertThat(loaded.errors()).hasSize(2);
    assertThat(loaded.errorAt("{ mode = passthrough }", "tollgate.routes[1].hosts").message())
        .startsWith("missing required key \"hosts\" (expected a non-empty list of host names");
    assertThat(loaded.errorAt("{ mode = passthrough }", "tollgate.routes[1].pool").message())
        .startsWith("missing required key \"pool\" (expected the name of a pool");
  }

  @Test
  void reportsEmptyHosts() {
    var loaded = broken(validWith("[\"*.wild.test\"]", "[]"));

    assertThat(loaded.onlyErrorAt("hosts = []", "tollgate.routes[1].hosts").message())
        .startsWith("route has no hosts (expected a non-empty list");
  }

  // ---- default route

  @Test
  void reportsDefaultRouteThatIsNeitherRejectNorObject() {
    var loaded = broken(validWith("default-route { pool = fallback }", "default-route = drop"));

    assertThat(loaded.onlyErrorAt("drop", "tollgate.default-route").message())
        .isEqualTo(
            "\"drop\" is not a valid default-route (expected reject, or an object such as"
                + " { pool = NAME })");
  }

  @Test
  void suggestsObjectFormWhenDefaultRouteIsAPoolName() {
    var loaded = broken(validWith("default-route { pool = fallback }", "default-route = fallback"));

    assertThat(loaded.onlyErrorAt("default-route", "tollgate.default-route").message())
        .endsWith("write default-route { pool = fallback }");
  }

  @Test
  void reportsDefaultRouteOfWrongType() {
    var loaded = broken(validWith("default-route { pool = fallback }", "default-route = [1]"));

    assertThat(loaded.onlyErrorAt("default-route", "tollgate.default-route").message())
        .isEqualTo("expected reject, or an object such as { pool = NAME }, got a list");
  }

  @Test
  void reportsDefaultRouteNamingUnknownPool() {
    var loaded =
        broken(validWith("default-route { pool = fallback }", "default-route { pool = nowhere }"));

    assertThat(loaded.onlyErrorAt("nowhere", "tollgate.default-route.pool").message())
        .isEqualTo("no pool named \"nowhere\" (defined pools: fallback, pass, wild)");
  }

  @Test
  void reportsDefaultRouteObjectWithoutPool() {
    var loaded =
        broken(
            validWith("default-route { pool = fallback }", "default-route { mode = passthrough }"));

    assertThat(loaded.onlyErrorAt("default-route", "tollgate.default-route.pool").message())
        .startsWith("missing required key \"pool\"");
  }

  // ---- pools

  @Test
  void reportsPoolWithEmptyServers() {
    var loaded =
        broken(validWith("fallback { servers = [\"[::1]:9446\"] }", "fallback { servers = [] }"));

    assertThat(
            loaded.onlyErrorAt("fallback { servers", "tollgate.pools.fallback.servers").message())
        .startsWith("pool has no servers (expected a non-empty list of servers");
  }

  @Test
  void reportsPoolWithoutServersAtThePool() {
    var loaded =
        broken(
            validWith(
                "fallback { servers = [\"[::1]:9446\"] }", "fallback { connect-attempts = 2 }"));

    assertThat(loaded.onlyErrorAt("fallback {", "tollgate.pools.fallback.servers").message())
        .startsWith("missing required key \"servers\"");
  }

  @Test
  void reportsRouteToUndefinedPoolWhenNoPoolsExist() {
    var loaded =
        broken(
            """
        tollgate {
          listeners = [ { name = main, address = "127.0.0.1:8443" } ]
          routes = [ { hosts = [a.test], pool = web } ]
        }
        """);

    assertThat(loaded.onlyErrorAt("routes", "tollgate.routes[0].pool").message())
        .isEqualTo(
            "no pool named \"web\" (no pools are defined; expected a pool under"
                + " tollgate.pools)");
  }

  @Test
  void doesNotReportUnusedPoolsOrRoutesToBrokenPoolsAsMissing() {
    var loaded =
        broken(
            validWith(
                "wild { servers = [{ address = \"127.0.0.1:9445\", weight = 2 }]",
                "spare { servers = [\"127.0.0.1:1\"] }\n    wild { servers = [{ address = \"127.0.0.1:0\""
                    + ", weight = 2 }]"));

    assertThat(
            loaded.onlyErrorAt("127.0.0.1:0", "tollgate.pools.wild.servers[0].address").message())
        .isEqualTo("\"127.0.0.1:0\": \"0\" is not a port (expected 1..65535)");
  }

  // ---- many at once

  @Test
  void reportsEveryMistakeInOneExceptionInFileOrder() {
    String text =
        """
        tollgate {
          listeners = [ { name = main, address = "127.0.0.1:70000" } ]
          io { transport = turbo }
          timeouts { conect = 3s, idle = soon }
          limits { max-client-hello = 1m }
          routes = [
            { hosts = ["a.test"], pool = web }
            { hosts = ["A.test", "1.2.3.4"], mode = tunnel, pool = nope }
          ]
          default-route = drop
          pools {
            web { servers = ["10.0.0.1:443", { address = "10.0.0.2", weight = heavy }] }
            empty { servers = [] }
          }
        }
        """;
    var loaded = broken(text);

    assertThat(loaded.errors())
        .extracting(ConfigError::path)
        .containsExactly(
            "tollgate.listeners[0].address",
            "tollgate.io.transport",
            "tollgate.timeouts.conect",
            "tollgate.timeouts.idle",
            "tollgate.limits.max-client-hello",
            "tollgate.routes[1].hosts[0]",
            "tollgate.routes[1].hosts[1]",
            "tollgate.routes[1].mode",
            "tollgate.routes[1].pool",
            "tollgate.default-route",
            "tollgate.pools.web.servers[1].address",
            "tollgate.pools.web.servers[1].weight",
            "tollgate.pools.empty.servers");
    assertThat(loaded.errors())
        .allSatisfy(e -> assertThat(e.origin()).startsWith(loaded.file() + ":"));
    loaded.errorAt("70000", "tollgate.listeners[0].address");
    loaded.errorAt("weight = heavy", "tollgate.pools.web.servers[1].weight");
    loaded.errorAt("empty", "tollgate.pools.empty.servers");
  }

  @Test
  void exceptionMessageListsEveryErrorOnItsOwnLine() {
    var loaded = broken(validWith("connect = 3s, idle = 5m", "conect = 3s, idle = 0s"));

    ConfigException e = new ConfigException(loaded.errors());
    assertThat(e.getMessage())
        .startsWith("2 config errors")
        .contains(loaded.file() + ":4: tollgate.timeouts.conect: unknown key \"conect\"");
  }
}
