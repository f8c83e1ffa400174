package io.tollgate.config.bind;

import static io.tollgate.config.ConfigFiles.with;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.tollgate.config.BackendTlsConfig;
import io.tollgate.config.CertificateFiles;
import io.tollgate.config.CertificateSource;
import io.tollgate.config.CertificatesConfig;
import io.tollgate.config.ClientAuth;
import io.tollgate.config.ConfigError;
import io.tollgate.config.ConfigException;
import io.tollgate.config.ConfigFiles;
import io.tollgate.config.ConfigLoader;
import io.tollgate.config.RouteConfig;
import io.tollgate.config.RouteMode;
import io.tollgate.config.ServerTlsConfig;
import io.tollgate.config.Timeouts;
import io.tollgate.config.TlsConfig;
import io.tollgate.config.TollgateConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Loading the TLS settings of offload and reencrypt (issue 3): values, defaults, path resolution
 * and warnings. The files named are real (empty of PEM: their contents are checked in lb-core).
 */
class TlsConfigLoadTest {
  /** Every TLS setting, each away from its default. */
  static final String FULL =
      """
      tollgate {
        listeners = [ { name = main, address = "127.0.0.1:8443" } ]
        timeouts { handshake = 7s }
        certificates { directory = "certs/", trusted-roots = "roots.pem" }
        tls {
          session-tickets = false
          session-ticket-keys = "ticket.keys"
          session-cache-size = 0
          session-timeout = 1h
        }
        routes = [
          { hosts = ["pass.test"], pool = pass }
          { hosts = ["shop.test"], mode = offload, pool = web,
            certificate { chain = "shop.pem", key = "shop.key", ocsp = "shop.ocsp" }
            alpn = ["h2", "http/1.1"]
            protocols = ["tlsv1.3", "TLSV1.2"]
            ciphers = [" TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 "]
            client-auth { mode = Require, ca = "clients-ca.pem" } }
          { hosts = ["api.test"], mode = REENCRYPT, pool = api, certificate = auto }
        ]
        pools {
          pass { servers = ["127.0.0.1:9443"] }
          web { servers = ["127.0.0.1:9080"] }
          api {
            servers = ["10.0.0.5:443"]
            tls {
              ca = "backend-ca.pem"
              server-name = "API.internal."
              verify = true
              certificate { chain = "lb-client.pem", key = "lb-client.key" }
              protocols = ["TLSv1.3"]
            }
          }
        }
      }
      """;

  /** Every file FULL names. */
  static final String[] FULL_FILES = {
    "certs/",
    "roots.pem",
    "ticket.keys",
    "shop.pem",
    "shop.key",
    "shop.ocsp",
    "clients-ca.pem",
    "backend-ca.pem",
    "lb-client.pem",
    "lb-client.key"
  };

  @TempDir Path dir;
  private ConfigFiles files;

  @BeforeEach
  void setUp() {
    files = new ConfigFiles(dir);
  }

  private TollgateConfig load(String text) throws ConfigException {
    return ConfigLoader.load(files.write("tollgate.conf", text));
  }

  private Path abs(String name) {
    return dir.resolve(name).toAbsolutePath().normalize();
  }

  private static RouteConfig route(TollgateConfig config, String host) {
    return config.routes().stream().filter(r -> r.hosts().contains(host)).findFirst().orElseThrow();
  }

  @Test
  void loadsEveryTlsSettingWithAbsolutePaths() throws Exception {
    files.touch(FULL_FILES);

    TollgateConfig config = load(FULL);

    assertThat(config.timeouts().handshake()).isEqualTo(Duration.ofSeconds(7));
    assertThat(config.certificates())
        .isEqualTo(
            new CertificatesConfig(Optional.of(abs("certs")), Optional.of(abs("roots.pem"))));
    assertThat(config.tls())
        .isEqualTo(new TlsConfig(false, Optional.of(abs("ticket.keys")), 0, Duration.ofHours(1)));
    assertThat(route(config, "pass.test").tls()).isEmpty();
    assertThat(route(config, "shop.test"))
        .isEqualTo(
            new RouteConfig(
                List.of("shop.test"),
                RouteMode.OFFLOAD,
                "web",
                Optional.of(
                    new ServerTlsConfig(
                        new CertificateSource.Files(
                            List.of(
                                new CertificateFiles(
                                    abs("shop.pem"),
                                    abs("shop.key"),
                                    Optional.of(abs("shop.ocsp"))))),
                        List.of("h2", "http/1.1"),
                        List.of("TLSv1.3", "TLSv1.2"),
                        List.of("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"),
                        Optional.of(
                            new ClientAuth(ClientAuth.Mode.REQUIRE, abs("clients-ca.pem")))))));
    assertThat(route(config, "api.test").mode()).isEqualTo(RouteMode.REENCRYPT);
    assertThat(route(config, "api.test").tls())
        .contains(ServerTlsConfig.defaults(new CertificateSource.Auto()));
    assertThat(config.pool("api").tls())
        .contains(
            new BackendTlsConfig(
                Optional.of(abs("backend-ca.pem")),
                Optional.of("api.internal"),
                true,
                Optional.of(new CertificateFiles(abs("lb-client.pem"), abs("lb-client.key"))),
                List.of("TLSv1.3")));
    assertThat(config.pool("web").tls()).isEmpty();
    assertThat(config.warnings()).isEmpty();
  }

  @Test
  void appliesTlsDefaults() throws Exception {
    files.touch("shop.pem", "shop.key");

    TollgateConfig config =
        load(
            """
        tollgate {
          listeners = [ { name = main, address = "127.0.0.1:8443" } ]
          routes = [ { hosts = [shop.test], mode = reencrypt, pool = api,
                       certificate { chain = shop.pem, key = shop.key } } ]
          pools.api { servers = ["10.0.0.5:443"], tls {} }
        }
        """);

    assertThat(config.timeouts().handshake()).isEqualTo(Timeouts.DEFAULT_HANDSHAKE);
    assertThat(config.certificates()).isEqualTo(CertificatesConfig.NONE);
    assertThat(config.tls()).isEqualTo(TlsConfig.DEFAULTS);
    ServerTlsConfig tls = config.routes().get(0).tls().orElseThrow();
    assertThat(tls)
        .isEqualTo(
            ServerTlsConfig.defaults(
                new CertificateSource.Files(
                    List.of(new CertificateFiles(abs("shop.pem"), abs("shop.key"))))));
    assertThat(tls.alpn()).containsExactly("http/1.1");
    assertThat(tls.protocols()).containsExactly("TLSv1.2", "TLSv1.3");
    assertThat(tls.ciphers()).isEmpty();
    assertThat(config.pool("api").tls()).contains(BackendTlsConfig.DEFAULTS);
  }

  @Test
  void acceptsOneEcdsaAndOneRsaCertificateInOrder() throws Exception {
    files.touch("ec.pem", "ec.key", "rsa.pem");

    TollgateConfig config =
        load(
            with(
                ConfigFiles.VALID,
                "mode = passthrough, pool = wild",
                """
        mode = offload, pool = wild
            certificate = [ { chain = ec.pem, key = ec.key }, { chain = rsa.pem, key = rsa.pem } ]
        """));

    assertThat(config.routes().get(1).tls().orElseThrow().certificate())
        .isEqualTo(
            new CertificateSource.Files(
                List.of(
                    new CertificateFiles(abs("ec.pem"), abs("ec.key")),
                    new CertificateFiles(abs("rsa.pem"), abs("rsa.pem")))));
  }

  @Test
  void acceptsAutoInAnyCaseWithAStore() throws Exception {
    files.touch("certs/");

    TollgateConfig config =
        load(
            with(
                    ConfigFiles.VALID,
                    "mode = passthrough, pool = wild",
                    "mode = offload, pool = wild, certificate = \" Auto \"")
                + "tollgate.certificates.directory = certs\n");

    assertThat(config.routes().get(1).tls().orElseThrow().certificate())
        .isEqualTo(new CertificateSource.Auto());
  }

  @Test
  void acceptsEmptyAlpnAndCipherListsAndLongestAlpnName() throws Exception {
    files.touch("a.pem");
    String longest = "x".repeat(255);

    TollgateConfig config =
        load(
            with(
                ConfigFiles.VALID,
                "mode = passthrough, pool = wild",
                "mode = offload, pool = wild, certificate { chain = a.pem, key = a.pem }, alpn = [],"
                    + " ciphers = []"));
    TollgateConfig withLong =
        load(
            with(
                ConfigFiles.VALID,
                "mode = passthrough, pool = wild",
                "mode = offload, pool = wild, certificate { chain = a.pem, key = a.pem }, alpn = [\""
                    + longest
                    + "\", \"H2\", \"h2\"]"));

    assertThat(config.routes().get(1).tls().orElseThrow().alpn()).isEmpty();
    assertThat(config.routes().get(1).tls().orElseThrow().ciphers()).isEmpty();
    assertThat(withLong.routes().get(1).tls().orElseThrow().alpn())
        .containsExactly(longest, "H2", "h2");
  }

  @Test
  void clientAuthOptional() throws Exception {
    files.touch("a.pem", "ca.pem");

    TollgateConfig config =
        load(
            with(
                ConfigFiles.VALID,
                "mode = passthrough, pool = wild",
                "mode = offload, pool = wild, certificate { chain = a.pem, key = a.pem }"
                    + ", client-auth { mode = optional, ca = ca.pem }"));

    assertThat(config.routes().get(1).tls().orElseThrow().clientAuth())
        .contains(new ClientAuth(ClientAuth.Mode.OPTIONAL, abs("ca.pem")));
  }

  // ---- where relative paths start

  @Test
  void resolvesRelativePathsAgainstTheConfigFilesDirectoryNotTheWorkingDirectory()
      throws Exception {
    files.touch("keys/shop.pem", "conf/shop.key");
    Path absoluteKey = abs("conf/shop.key");
    Path file =
        files.write(
            "conf/tollgate.conf",
            with(
                ConfigFiles.VALID,
                "mode = passthrough, pool = wild",
                "mode = offload, pool = wild, certificate { chain = \"../keys/./shop.pem\", key = \""
                    + absoluteKey
                    + "\" }"));

    TollgateConfig config = ConfigLoader.load(file);

    assertThat(config.routes().get(1).tls().orElseThrow().certificate())
        .isEqualTo(
            new CertificateSource.Files(
                List.of(new CertificateFiles(abs("keys/shop.pem"), absoluteKey))));
  }

  @Test
  void resolvesRelativeToTheConfigFileWhenItIsNamedByARelativePath() throws Exception {
    // Maven runs tests in the module directory; a config under target/ named relatively.
    Path base = Files.createTempDirectory(Path.of("target"), "tls-relative-");
    try {
      Files.writeString(base.resolve("site.pem"), "placeholder");
      Path relativeConfig = base.resolve("tollgate.conf");
      Files.writeString(
          relativeConfig,
          with(
              ConfigFiles.VALID,
              "mode = passthrough, pool = wild",
              "mode = offload, pool = wild, certificate { chain = site.pem, key = site.pem }"));

      TollgateConfig config = ConfigLoader.load(relativeConfig);

      Path expected = base.resolve("site.pem").toAbsolutePath().normalize();
      assertThat(
              ((CertificateSource.Files) config.routes().get(1).tls().orElseThrow().certificate())
                  .files()
                  .get(0)
                  .chain())
          .isEqualTo(expected)
          .isAbsolute();
    } finally {
      deleteTree(base);
    }
  }

  @Test
  void parseResolvesRelativePathsAgainstTheWorkingDirectory() throws Exception {
    Path base = Files.createTempDirectory(Path.of("target"), "tls-cwd-");
    try {
      Files.writeString(base.resolve("site.pem"), "placeholder");
      String relative = base.resolve("site.pem").toString();
      assertThat(Path.of(relative)).isRelative();

      TollgateConfig config =
          ConfigLoader.parse(
              with(
                  ConfigFiles.VALID,
                  "mode = passthrough, pool = wild",
                  "mode = offload, pool = wild, certificate { chain"
                      + " = \""
                      + relative
                      + "\", key = \""
                      + relative
                      + "\" }"),
              "inline");

      assertThat(
              ((CertificateSource.Files) config.routes().get(1).tls().orElseThrow().certificate())
                  .files()
                  .get(0)
                  .chain())
          .isEqualTo(Path.of("").toAbsolutePath().resolve(relative).normalize());
    } finally {
      deleteTree(base);
    }
  }

  @Test
  void parseReportsAMissingRelativeFileAsRelativeToTheWorkingDirectory() {
    ConfigException e =
        catchThrowableOfType(
            ConfigException.class,
            () ->
                ConfigLoader.parse(
                    with(
                        ConfigFiles.VALID,
                        "mode = passthrough, pool = wild",
                        "mode = offload, pool = wild, certificate { chain = surely-missing.pem, key ="
                            + " surely-missing.pem }"),
                    "inline"));

    Path missing = Path.of("").toAbsolutePath().resolve("surely-missing.pem");
    assertThat(e.errors())
        .extracting(ConfigError::toString)
        .containsExactly(
            "inline:8: tollgate.routes[1].certificate.chain: file not found: "
                + missing
                + " (\"surely-missing.pem\" is relative to the working directory)",
            "inline:8: tollgate.routes[1].certificate.key: file not found: "
                + missing
                + " (\"surely-missing.pem\" is relative to the working directory)");
  }

  // ---- warnings

  @Test
  void warnsWhenBackendVerificationIsOffAndStillLoads() throws Exception {
    String text =
        """
        tollgate {
          listeners = [ { name = main, address = "127.0.0.1:8443" } ]
          pools.api {
            servers = ["10.0.0.5:443"]
            tls { verify = off }
          }
        }
        """;
    Path file = files.write("tollgate.conf", text);

    TollgateConfig config = ConfigLoader.load(file);

    assertThat(config.pool("api").tls().orElseThrow().verify()).isFalse();
    assertThat(config.warnings())
        .containsExactly(
            new ConfigError(
                file + ":" + ConfigFiles.lineOf(text, "verify = off"),
                "tollgate.pools.api.tls.verify",
                "certificate and name verification toward the servers of pool \"api\" is OFF: anyone on"
                    + " the network path to them can impersonate them and read or change the traffic"
                    + " (remove verify = false, and set ca to the CA that issued their certificates)"));
  }

  @Test
  void warnsWhenAnOffloadRouteUsesAPoolWithTlsButNotForReencrypt() throws Exception {
    files.touch("a.pem");
    String text =
        """
        tollgate {
          listeners = [ { name = main, address = "127.0.0.1:8443" } ]
          routes = [
            { hosts = [a.test], pool = api, certificate { chain = a.pem, key = a.pem },
              mode = offload }
            { hosts = [b.test], pool = api, certificate { chain = a.pem, key = a.pem },
              mode = reencrypt }
            { hosts = [c.test], pool = plain, certificate { chain = a.pem, key = a.pem },
              mode = offload }
          ]
          pools {
            api { servers = ["10.0.0.5:443"], tls { verify = false } }
            plain { servers = ["10.0.0.6:80"] }
          }
        }
        """;
    Path file = files.write("tollgate.conf", text);

    TollgateConfig config = ConfigLoader.load(file);

    assertThat(config.warnings())
        .extracting(ConfigError::toString)
        .containsExactly(
            file
                + ":5: tollgate.routes[0].mode: the route is offload, so Tollgate sends plaintext"
                + " to pool \"api\" and ignores its tls block (set mode = reencrypt to use TLS"
                + " toward its servers)",
            file
                + ":"
                + ConfigFiles.lineOf(text, "verify = false")
                + ": tollgate.pools.api.tls.verify: certificate and name verification toward the"
                + " servers of pool \"api\" is OFF: anyone on the network path to them can"
                + " impersonate them and read or change the traffic (remove verify = false, and set"
                + " ca to the CA that issued their certificates)");
  }

  @Test
  void noWarningsForTheDocumentedExample() throws Exception {
    assertThat(load(ConfigFiles.VALID).warnings()).isEmpty();
  }

  private static void deleteTree(Path root) throws java.io.IOException {
    try (var paths = Files.walk(root)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
