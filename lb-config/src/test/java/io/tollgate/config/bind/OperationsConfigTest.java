package io.tollgate.config.bind;

import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.config.AccessLogConfig;
import io.tollgate.config.ConfigException;
import io.tollgate.config.ConfigFiles;
import io.tollgate.config.ConfigLoader;
import io.tollgate.config.Limits;
import io.tollgate.config.TollgateConfig;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 6's connection limits and access log keys: defaults, values as written, mistakes. */
class OperationsConfigTest {
  @TempDir Path dir;

  private static final String HEAD =
      """
      tollgate.listeners = [ { name = main, address = "127.0.0.1:8443" } ]
      tollgate.pools.p.servers = ["10.0.0.1:443"]
      """;

  private TollgateConfig load(String text) throws ConfigException {
    return ConfigLoader.load(new ConfigFiles(dir).write("tollgate.conf", HEAD + text));
  }

  private ConfigFiles.Loaded broken(String text) {
    return new ConfigFiles(dir).loadBroken(HEAD + text);
  }

  @Test
  void defaultsLimitConnectionsAndLeaveTheAccessLogOff() throws Exception {
    TollgateConfig c = load("");

    assertThat(c.limits()).isEqualTo(new Limits(16 * 1024, 100_000, 0, 0));
    assertThat(c.listeners().get(0).maxConnections()).isZero();
    assertThat(c.accessLog()).isEqualTo(AccessLogConfig.OFF);
  }

  @Test
  void readsLimitsOfEveryLevelAsWritten() throws Exception {
    TollgateConfig c =
        load(
            """
        tollgate {
          limits { max-connections = 5000, per-source { max-connections = 10, new-per-second = 0 } }
          listeners = [ { name = main, address = "127.0.0.1:8443", max-connections = 300 } ]
          routes = [ { hosts = ["a.test"], pool = p, max-connections = 20 },
                     { hosts = ["b.test"], pool = p } ]
        }
        """);

    assertThat(c.limits()).isEqualTo(new Limits(16 * 1024, 5000, 10, 0));
    assertThat(c.listeners().get(0).maxConnections()).isEqualTo(300);
    assertThat(c.routes().get(0).maxConnections()).isEqualTo(20);
    assertThat(c.routes().get(1).maxConnections()).isZero();
  }

  @Test
  void accessLogPathIsOffStdoutStderrOrAFileBesideTheConfig() throws Exception {
    assertThat(load("tollgate.access-log.path = stdout").accessLog().target())
        .isEqualTo(AccessLogConfig.Target.STDOUT);
    assertThat(load("tollgate.access-log.path = STDERR").accessLog().target())
        .isEqualTo(AccessLogConfig.Target.STDERR);
    assertThat(load("tollgate.access-log.path = off").accessLog()).isEqualTo(AccessLogConfig.OFF);
    assertThat(load("tollgate.access-log.path = \"access.log\"").accessLog())
        .isEqualTo(
            new AccessLogConfig(
                AccessLogConfig.Target.FILE,
                Optional.of(dir.resolve("access.log").toAbsolutePath().normalize())));
  }

  @Test
  void accessLogFileInAMissingDirectoryIsAnError() {
    var loaded = broken("tollgate.access-log.path = \"nowhere/access.log\"\n");

    assertThat(loaded.errorAt("nowhere", "tollgate.access-log.path").message())
        .contains("does not exist");
  }

  @Test
  void ipv6PrefixDefaultsTo64AndIsReadAsWritten() throws Exception {
    assertThat(load("").limits().perSourceIpv6Prefix()).isEqualTo(64);
    assertThat(load("tollgate.limits.per-source.ipv6-prefix = 56").limits().perSourceIpv6Prefix())
        .isEqualTo(56);
    assertThat(load("tollgate.limits.per-source.ipv6-prefix = 128").limits().perSourceIpv6Prefix())
        .isEqualTo(128);
  }

  @Test
  void ipv6PrefixOutsideOneTo128IsAnErrorAtItsLine() {
    var zero = broken("tollgate.limits.per-source.ipv6-prefix = 0\n");
    assertThat(zero.errorAt("ipv6-prefix = 0", "tollgate.limits.per-source.ipv6-prefix").message())
        .contains("out of range (expected 1..128)");
    var big = broken("tollgate.limits.per-source { ipv6-prefix = 129 }\n");
    assertThat(big.errorAt("ipv6-prefix = 129", "tollgate.limits.per-source.ipv6-prefix").message())
        .contains("out of range (expected 1..128)");
    var text = broken("tollgate.limits.per-source.ipv6-prefix = wide\n");
    assertThat(
            text.errorAt("ipv6-prefix = wide", "tollgate.limits.per-source.ipv6-prefix").message())
        .contains("not a whole number");
  }

  @Test
  void receiveBufferDefaultsToTheKernelsAutotuningAndIsReadAsASize() throws Exception {
    assertThat(load("").limits().receiveBuffer()).isZero();
    assertThat(load("tollgate.limits.receive-buffer = 256k").limits().receiveBuffer())
        .isEqualTo(256 * 1024);
    assertThat(load("tollgate.limits.receive-buffer = 4k").limits().receiveBuffer())
        .isEqualTo(4096);
  }

  @Test
  void receiveBufferAboveTheKernelsCapIsAWarningThatNamesTheCap() throws Exception {
    Path rmemMax = Path.of("/proc/sys/net/core/rmem_max");
    org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.isReadable(rmemMax));
    long cap = Long.parseLong(java.nio.file.Files.readAllLines(rmemMax).get(0).trim());
    org.junit.jupiter.api.Assumptions.assumeTrue(cap < Limits.MAX_RECEIVE_BUFFER);

    TollgateConfig c = load("tollgate.limits.receive-buffer = 64m");
    assertThat(c.limits().receiveBuffer()).isEqualTo(Limits.MAX_RECEIVE_BUFFER);
    assertThat(c.warnings())
        .filteredOn(w -> w.path().equals("tollgate.limits.receive-buffer"))
        .singleElement()
        .satisfies(w -> assertThat(w.message()).contains("net.core.rmem_max, " + cap + " bytes"));
    assertThat(load("tollgate.limits.receive-buffer = 4k").warnings())
        .noneMatch(w -> w.path().equals("tollgate.limits.receive-buffer"));
  }

  @Test
  void receiveBufferTooSmallOrTooLargeIsAnErrorAtItsLine() {
    var small = broken("tollgate.limits.receive-buffer = 1k\n");
    assertThat(small.errorAt("receive-buffer = 1k", "tollgate.limits.receive-buffer").message())
        .contains("too small for TCP");
    var big = broken("tollgate.limits { receive-buffer = 128m }\n");
    assertThat(big.errorAt("receive-buffer = 128m", "tollgate.limits.receive-buffer").message())
        .contains("0 or 4k..64m");
    var text = broken("tollgate.limits.receive-buffer = lots\n");
    assertThat(text.errorAt("receive-buffer = lots", "tollgate.limits.receive-buffer").message())
        .contains("\"lots\" is not a size");
  }

  @Test
  void negativeOrHugeLimitsAndUnknownKeysAreErrors() {
    var loaded =
        broken(
            """
        tollgate.limits.max-connections = -1
        tollgate.limits.per-source { new-per-second = 99999999, max-conections = 3 }
        """);

    assertThat(loaded.errorAt("max-connections = -1", "tollgate.limits.max-connections").message())
        .contains("out of range (expected 0..10000000)");
    assertThat(
            loaded.errorAt("new-per-second", "tollgate.limits.per-source.new-per-second").message())
        .contains("out of range (expected 0..1000000)");
    assertThat(
            loaded.errorAt("max-conections", "tollgate.limits.per-source.max-conections").message())
        .contains("did you mean \"max-connections\"?");
  }

  @Test
  void routeAndListenerLimitsMustBeWholeNumbers() {
    var loaded =
        broken(
            """
        tollgate.listeners = [ { name = main, address = "127.0.0.1:8443", max-connections = lots } ]
        tollgate.routes = [ { hosts = ["a.test"], pool = p, max-connections = 2.5 } ]
        """);

    assertThat(loaded.errorAt("lots", "tollgate.listeners[0].max-connections").message())
        .contains("not a whole number");
    assertThat(loaded.errorAt("2.5", "tollgate.routes[0].max-connections").message())
        .contains("not a whole number");
  }
}
