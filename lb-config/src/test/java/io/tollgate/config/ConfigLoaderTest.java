package io.tollgate.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading valid configs: values, defaults, normalisation, and whole-file failures. */
class ConfigLoaderTest {
  @TempDir Path dir;

  private ConfigFiles files() {
    return new ConfigFiles(dir);
  }

  private TollgateConfig load(String text) throws ConfigException {
    return ConfigLoader.load(files().write("tollgate.conf", text));
  }

  /** The smallest runnable config: one listener, everything else default. */
  private static final String MINIMAL =
      """
      tollgate.listeners = [ { name = main, address = "127.0.0.1:8443" } ]
      """;

  @Test
  void loadsTheDocumentedExampleAndEveryValueRoundTrips() throws Exception {
    Path file =
        files()
            .write(
                "tollgate.conf", ConfigFiles.validWith("\"www.pass.test\"", "\"WWW.Pass.Test.\""));

    TollgateConfig config = ConfigLoader.load(file);

    assertThat(config.source()).isEqualTo(file.toString());
    assertThat(config.listeners())
        .containsExactly(new ListenerConfig("main", new HostPort("127.0.0.1", 8443)));
    assertThat(config.io()).isEqualTo(new IoConfig(IoConfig.Transport.AUTO, 0, false));
    assertThat(config.timeouts())
        .isEqualTo(
            new Timeouts(Duration.ofSeconds(5), Duration.ofSeconds(3), Duration.ofMinutes(5)));
    assertThat(config.limits().maxClientHello()).isEqualTo(16384);
    assertThat(config.routes())
        .containsExactly(
            new RouteConfig(List.of("pass.test", "www.pass.test"), RouteMode.PASSTHROUGH, "pass"),
            new RouteConfig(List.of("*.wild.test"), RouteMode.PASSTHROUGH, "wild"));
    assertThat(config.defaultRoute())
        .isEqualTo(DefaultRoute.toPool(RouteMode.PASSTHROUGH, "fallback"));
    assertThat(config.pools()).containsOnlyKeys("pass", "wild", "fallback");
    assertThat(config.pool("pass"))
        .isEqualTo(
            new PoolConfig(
                "pass",
                List.of(
                    new ServerConfig(new HostPort("127.0.0.1", 9443), 1),
                    new ServerConfig(new HostPort("127.0.0.1", 9444), 1)),
                3));
    assertThat(config.pool("wild").servers())
        .containsExactly(new ServerConfig(new HostPort("127.0.0.1", 9445), 2));
    assertThat(config.pool("fallback").servers())
        .containsExactly(new ServerConfig(new HostPort("::1", 9446), 1));
  }

  @Test
  void listenersMayAskForAnyFreePortButServersMayNot() throws Exception {
    TollgateConfig config =
        ConfigLoader.parse(ConfigFiles.validWith("127.0.0.1:8443", "127.0.0.1:0"), "port0.conf");
    assertThat(config.listeners().get(0).address()).isEqualTo(new HostPort("127.0.0.1", 0));

    assertThatThrownBy(
            () ->
                ConfigLoader.parse(
                    ConfigFiles.validWith("127.0.0.1:9443", "127.0.0.1:0"), "server0.conf"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("\"0\" is not a port (expected 1..65535)");
  }

  @Test
  void loadsTheShippedExampleConfig() throws Exception {
    Path shipped = Path.of("..", "conf", "tollgate.conf");

    TollgateConfig config = ConfigLoader.load(shipped);

    assertThat(config.listeners())
        .extracting(ListenerConfig::address)
        .containsExactly(new HostPort("127.0.0.1", 8443));
    assertThat(config.pools()).containsOnlyKeys("pass", "wild", "fallback");
    assertThat(config.defaultRoute().pool()).isEqualTo("fallback");
    assertThat(config.routes()).hasSize(2);
  }

  @Test
  void shippedBrokenExampleReportsSeveralErrorsWithTheRelativePathAsGiven() {
    Path shipped = Path.of("..", "conf", "broken-example.conf");

    ConfigException e =
        catchThrowableOfType(ConfigException.class, () -> ConfigLoader.load(shipped));

    assertThat(e.errors()).hasSizeGreaterThanOrEqualTo(5);
    assertThat(e.errors())
        .allSatisfy(
            err -> assertThat(err.origin()).matches("\\.\\./conf/broken-example\\.conf:\\d+"));
  }

  @Test
  void appliesReferenceDefaultsToEverythingNotWritten() throws Exception {
    TollgateConfig config = load(MINIMAL);

    assertThat(config.io()).isEqualTo(new IoConfig(IoConfig.Transport.AUTO, 0, false));
    assertThat(config.timeouts())
        .isEqualTo(
            new Timeouts(
                Duration.ofSeconds(5),
                Duration.ofSeconds(3),
                Duration.ofMinutes(5),
                Duration.ofSeconds(10)));
    assertThat(config.limits().maxClientHello()).isEqualTo(16 * 1024);
    assertThat(config.routes()).isEmpty();
    assertThat(config.defaultRoute()).isEqualTo(DefaultRoute.REJECT);
    assertThat(config.pools()).isEmpty();
    assertThat(config.certificates()).isEqualTo(CertificatesConfig.NONE);
    assertThat(config.tls()).isEqualTo(TlsConfig.DEFAULTS);
    assertThat(config.warnings()).isEmpty();
  }

  @Test
  void appliesPerElementDefaultsForModeWeightAndConnectAttempts() throws Exception {
    TollgateConfig config =
        load(
            MINIMAL
                + """
        tollgate.routes = [ { hosts = [a.test], pool = p } ]
        tollgate.pools.p.servers = [ { address = "10.0.0.1:443" } ]
        """);

    assertThat(config.routes().get(0).mode()).isEqualTo(RouteMode.PASSTHROUGH);
    assertThat(config.pool("p").connectAttempts()).isEqualTo(3);
    assertThat(config.pool("p").servers().get(0).weight()).isEqualTo(1);
  }

  @Test
  void acceptsDefaultRouteRejectInAnyCase() throws Exception {
    assertThat(load(MINIMAL + "tollgate.default-route = REJECT\n").defaultRoute())
        .isEqualTo(DefaultRoute.REJECT);
  }

  @Test
  void acceptsDefaultRouteObjectWithExplicitMode() throws Exception {
    TollgateConfig config =
        load(
            MINIMAL
                + """
        tollgate.default-route { pool = fb, mode = PassThrough }
        tollgate.pools.fb.servers = ["10.0.0.1:443"]
        """);

    assertThat(config.defaultRoute()).isEqualTo(DefaultRoute.toPool(RouteMode.PASSTHROUGH, "fb"));
  }

  @Test
  void readsTransportCaseInsensitivelyAndByteUnits() throws Exception {
    TollgateConfig config =
        load(
            MINIMAL
                + """
        tollgate.io { transport = EPOLL, worker-threads = 4 }
        tollgate.limits.max-client-hello = 64k
        """);

    assertThat(config.io()).isEqualTo(new IoConfig(IoConfig.Transport.EPOLL, 4, false));
    assertThat(config.limits().maxClientHello()).isEqualTo(Limits.MAX_CLIENT_HELLO);
  }

  @Test
  void spliceOnATransportThatCannotSpliceIsAWarningAtItsKey() throws Exception {
    for (String transport : List.of("nio", "io_uring")) {
      TollgateConfig config =
          load(MINIMAL + "tollgate.io { transport = " + transport + ", splice = true }\n");

      assertThat(config.warnings())
          .as(transport)
          .filteredOn(w -> w.path().equals("tollgate.io.splice"))
          .singleElement()
          .satisfies(
              w ->
                  assertThat(w.message())
                      .isEqualTo(
                          "not used: splice needs the epoll transport, and io.transport = "
                              + transport
                              + " (passthrough bytes are relayed through Tollgate's memory)"));
    }
    assertThat(load(MINIMAL + "tollgate.io { transport = epoll, splice = true }\n").warnings())
        .noneMatch(w -> w.path().equals("tollgate.io.splice"));
  }

  @Test
  void readsIoUringWrittenWithAnUnderscoreOrADashInAnyCase() throws Exception {
    for (String written : List.of("io_uring", "io-uring", "IO_URING")) {
      TollgateConfig config = load(MINIMAL + "tollgate.io.transport = " + written + "\n");

      assertThat(config.io().transport()).as(written).isEqualTo(IoConfig.Transport.IO_URING);
    }
  }

  @Test
  void readsWhereConnectionsAreAcceptedAndRejectsAnythingElseAtItsLine() throws Exception {
    assertThat(load(MINIMAL).io().accept()).isEqualTo(IoConfig.Accept.WORKER);
    assertThat(load(MINIMAL + "tollgate.io.accept = thread\n").io().accept())
        .isEqualTo(IoConfig.Accept.THREAD);

    assertThatThrownBy(
            () -> ConfigLoader.parse(MINIMAL + "tollgate.io.accept = boss\n", "accept.conf"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("accept.conf")
        .hasMessageContaining("tollgate.io.accept")
        .hasMessageContaining("worker, thread");
  }

  @Test
  void readsHandshakeThreadsAndTheirPriorityAndRejectsOutOfRangeAtTheKey() throws Exception {
    IoConfig defaults = load(MINIMAL).io();
    assertThat(defaults.handshakeThreads()).isEqualTo(IoConfig.HANDSHAKE_THREADS_AUTO);
    assertThat(defaults.handshakePriority()).isEqualTo(IoConfig.HandshakePriority.IDLE);
    assertThat(defaults.handshakeThreadsWhen()).isEqualTo(IoConfig.HandshakeThreadsWhen.GAPS);
    IoConfig set =
        load(MINIMAL
                + "tollgate.io { handshake-threads = 2, handshake-priority = NICE,"
                + " handshake-threads-when = always }\n")
            .io();
    assertThat(set.handshakeThreads()).isEqualTo(2);
    assertThat(set.handshakePriority()).isEqualTo(IoConfig.HandshakePriority.NICE);
    assertThat(set.handshakeThreadsWhen()).isEqualTo(IoConfig.HandshakeThreadsWhen.ALWAYS);
    assertThat(
            load(MINIMAL + "tollgate.io.handshake-threads-when = gaps\n")
                .io()
                .handshakeThreadsWhen())
        .isEqualTo(IoConfig.HandshakeThreadsWhen.GAPS);
    assertThat(load(MINIMAL + "tollgate.io.handshake-threads = 0\n").io().handshakeThreads())
        .isZero();
    assertThat(load(MINIMAL + "tollgate.io.handshake-threads = AUTO\n").io().handshakeThreads())
        .isEqualTo(IoConfig.HANDSHAKE_THREADS_AUTO);
    assertThatThrownBy(
            () -> ConfigLoader.parse(MINIMAL + "tollgate.io.handshake-threads = some\n", "hs.conf"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("hs.conf")
        .hasMessageContaining("tollgate.io.handshake-threads")
        .hasMessageContaining("neither auto nor a number");
    assertThatThrownBy(
            () ->
                ConfigLoader.parse(
                    MINIMAL + "tollgate.io.handshake-threads-when = sometimes\n", "hs.conf"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("tollgate.io.handshake-threads-when")
        .hasMessageContaining("contended, always, gaps");

    assertThatThrownBy(
            () -> ConfigLoader.parse(MINIMAL + "tollgate.io.handshake-threads = 65\n", "hs.conf"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("hs.conf")
        .hasMessageContaining("tollgate.io.handshake-threads");
    assertThatThrownBy(
            () ->
                ConfigLoader.parse(
                    MINIMAL + "tollgate.io.handshake-priority = realtime\n", "hs.conf"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("tollgate.io.handshake-priority")
        .hasMessageContaining("nice, idle");
  }

  @Test
  void readsTheLingeringCloseBoundAndRejectsZero() throws Exception {
    assertThat(load(MINIMAL).timeouts().lingeringClose()).isEqualTo(Duration.ofSeconds(30));
    assertThat(
            load(MINIMAL + "tollgate.timeouts.lingering-close = 2s\n").timeouts().lingeringClose())
        .isEqualTo(Duration.ofSeconds(2));
    assertThatThrownBy(
            () ->
                ConfigLoader.parse(
                    MINIMAL + "tollgate.timeouts.lingering-close = 0s\n", "linger.conf"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("linger.conf")
        .hasMessageContaining("tollgate.timeouts.lingering-close");
  }

  @Test
  void keepsValueWhenOptionalEnvSubstitutionIsUnset() throws Exception {
    TollgateConfig config =
        load(
            MINIMAL
                + """
        tollgate.io.worker-threads = 2
        tollgate.io.worker-threads = ${?TOLLGATE_TEST_SURELY_UNSET_VARIABLE}
        """);

    assertThat(config.io().workerThreads()).isEqualTo(2);
  }

  @Test
  void ignoresJavaSystemProperties() throws Exception {
    System.setProperty("tollgate.io.worker-threads", "7");
    try {
      assertThat(load(MINIMAL).io().workerThreads()).isZero();
    } finally {
      System.clearProperty("tollgate.io.worker-threads");
    }
  }

  @Test
  void resolvesIncludesRelativeToTheFile() throws Exception {
    files().write("pools.conf", "tollgate.pools.p.servers = [\"10.0.0.1:443\"]\n");
    TollgateConfig config =
        load(
            MINIMAL
                + """
        include "pools.conf"
        tollgate.routes = [ { hosts = [a.test], pool = p } ]
        """);

    assertThat(config.pools()).containsOnlyKeys("p");
  }

  @Test
  void parsesTextAndNamesTheOriginInErrors() {
    ConfigException e =
        catchThrowableOfType(
            ConfigException.class,
            () -> ConfigLoader.parse(MINIMAL + "tollgate.io.transport = fast\n", "inline"));

    assertThat(e.errors())
        .containsExactly(
            new ConfigError(
                "inline:2",
                "tollgate.io.transport",
                "\"fast\" is not a valid transport (expected one of: auto, epoll, io_uring,"
                    + " nio)"));
  }

  @Test
  void parsesValidText() throws Exception {
    TollgateConfig config = ConfigLoader.parse(ConfigFiles.VALID, "<string>");

    assertThat(config.source()).isEqualTo("<string>");
    assertThat(config.routes()).hasSize(2);
  }

  @Test
  void readsIoSpliceOffByDefaultAndOnWhenAsked() throws Exception {
    assertThat(load(MINIMAL).io().splice()).isFalse();
    assertThat(load(MINIMAL + "tollgate.io.splice = true\n").io().splice()).isTrue();
  }

  @Test
  void reportsAnIoSpliceThatIsNotABooleanAtItsLine() throws Exception {
    Path file =
        files()
            .write(
                "splice.conf",
                """
        tollgate {
          listeners = [ { name = main, address = "127.0.0.1:8443" } ]
          io { splice = sometimes }
        }
        """);

    ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.load(file));

    assertThat(e.errors()).hasSize(1);
    ConfigError error = e.errors().get(0);
    assertThat(error.origin()).isEqualTo(file + ":3");
    assertThat(error.path()).isEqualTo("tollgate.io.splice");
    assertThat(error.message()).contains("true or false");
  }

  @Test
  void reportsMissingFileByName() {
    Path missing = dir.resolve("absent.conf");

    ConfigException e =
        catchThrowableOfType(ConfigException.class, () -> ConfigLoader.load(missing));

    assertThat(e.errors()).hasSize(1);
    ConfigError error = e.errors().get(0);
    assertThat(error.origin()).startsWith(missing.toString());
    assertThat(error.message()).isEqualTo("file not found (expected a readable HOCON config file)");
    assertThat(e.getMessage()).contains(missing.toString()).doesNotContain("java.io");
  }

  @Test
  void reportsSyntaxErrorWithFileAndLine() throws Exception {
    String text =
        """
        tollgate {
          listeners = [ { name = main, address = "127.0.0.1:8443" } ]
          io { transport = auto
        }
        """;
    Path file = files().write("thefile.conf", text);

    ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.load(file));

    assertThat(e.errors()).hasSize(1);
    ConfigError error = e.errors().get(0);
    assertThat(error.origin()).matches(java.util.regex.Pattern.quote(file.toString()) + ":\\d+");
    assertThat(error.message()).isNotBlank().doesNotStartWith(file.toString());
  }

  @Test
  void reportsUnclosedStringOnItsLine() throws Exception {
    String text =
        """
        tollgate {
          listeners = [ { name = main, address = "127.0.0.1:8443 } ]
        }
        """;
    Path file = files().write("thefile.conf", text);

    ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.load(file));

    assertThat(e.errors())
        .singleElement()
        .satisfies(err -> assertThat(err.origin()).isEqualTo(file + ":2"));
  }

  @Test
  void reportsRequiredEnvSubstitutionThatIsUnset() throws Exception {
    String text = MINIMAL + "tollgate.io.worker-threads = ${TOLLGATE_TEST_SURELY_UNSET_VARIABLE}\n";
    Path file = files().write("thefile.conf", text);

    ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.load(file));

    assertThat(e.errors())
        .singleElement()
        .satisfies(
            err -> {
              assertThat(err.origin()).isEqualTo(file + ":2");
              assertThat(err.message()).contains("TOLLGATE_TEST_SURELY_UNSET_VARIABLE");
            });
  }
}
