package io.tollgate.config.bind;

import static io.tollgate.config.ConfigFiles.with;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.tollgate.config.ConfigError;
import io.tollgate.config.ConfigFiles;
import io.tollgate.config.ConfigLoader;
import io.tollgate.config.RouteConfig;
import io.tollgate.config.RouteMode;
import io.tollgate.config.TollgateConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each mistake in the TLS settings of offload and reencrypt (issue 3) yields an error at the right
 * {@code file:line} and key path, saying what was expected; every one is found in one run.
 */
class TlsConfigValidationTest {
  /** Valid, with every TLS setting written once; tests break one thing at a time. */
  static final String BASE =
      """
      tollgate {
        listeners = [ { name = main, address = "127.0.0.1:8443" } ]
        certificates { directory = "certs/" }
        tls { session-cache-size = 20000 }
        timeouts { handshake = 10s }
        routes = [
          { hosts = ["pass.test"], mode = passthrough, pool = web }
          { hosts = ["shop.test"], mode = offload, pool = web,
            certificate { chain = "shop.pem", key = "shop.key" }
            alpn = ["http/1.1"]
            protocols = ["TLSv1.2", "TLSv1.3"]
            ciphers = ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"]
            client-auth { mode = require, ca = "clients-ca.pem" } }
          { hosts = ["api.test"], mode = reencrypt, pool = api, certificate = auto }
        ]
        default-route { pool = web }
        pools {
          web { servers = ["127.0.0.1:9080"] }
          api { servers = ["10.0.0.5:443"]
                tls { ca = "backend-ca.pem", server-name = "api.internal", verify = true } }
        }
      }
      """;

  @TempDir Path dir;
  private ConfigFiles files;

  @BeforeEach
  void setUp() {
    files = new ConfigFiles(dir);
    files.touch("certs/", "shop.pem", "shop.key", "clients-ca.pem", "backend-ca.pem");
  }

  private ConfigFiles.Loaded broken(String from, String to) {
    return files.loadBroken(with(BASE, from, to));
  }

  private String abs(String name) {
    return dir.resolve(name).toAbsolutePath().normalize().toString();
  }

  @Test
  void baseIsValid() throws Exception {
    TollgateConfig config = ConfigLoader.load(files.write("tollgate.conf", BASE));

    assertThat(config.routes())
        .extracting(RouteConfig::mode)
        .containsExactly(RouteMode.PASSTHROUGH, RouteMode.OFFLOAD, RouteMode.REENCRYPT);
    assertThat(config.warnings()).isEmpty();
  }

  // ---- certificate

  @Test
  void offloadAndReencryptRoutesNeedACertificate() {
    var loaded =
        files.loadBroken(
            with(
                with(BASE, "      certificate { chain = \"shop.pem\", key = \"shop.key\" }\n", ""),
                ", certificate = auto }",
                " }"));

    assertThat(loaded.errors()).hasSize(2);
    assertThat(loaded.errorAt("shop.test", "tollgate.routes[1].certificate").message())
        .isEqualTo(
            "missing required key \"certificate\" (expected "
                + Schema.CERTIFICATE.expected()
                + ")");
    assertThat(loaded.errorAt("api.test", "tollgate.routes[2].certificate").message())
        .startsWith("missing required key \"certificate\" (expected auto, { chain =");
  }

  @Test
  void autoNeedsACertificateStore() {
    var loaded = broken("  certificates { directory = \"certs/\" }\n", "");

    assertThat(loaded.only("certificate = auto", "tollgate.routes[2].certificate"))
        .startsWith(
            "certificate = auto needs a certificate store, and there is none: set"
                + " tollgate.certificates.directory");
  }

  @Test
  void autoWithABrokenStoreIsReportedOnceAtTheStore() {
    var loaded = broken("directory = \"certs/\"", "directory = \"certz/\"");

    assertThat(loaded.only("certz", "tollgate.certificates.directory"))
        .isEqualTo(
            "directory not found: "
                + abs("certz")
                + " (\"certz/\" is relative to the config"
                + " file's directory)");
  }

  @Test
  void certificateStringOtherThanAuto() {
    assertThat(
            broken("certificate = auto", "certificate = auot")
                .only("auot", "tollgate.routes[2].certificate"))
        .isEqualTo(
            "\"auot\" is not a valid certificate (expected "
                + Schema.CERTIFICATE.expected()
                + ") (did you mean \"auto\"?)");
    assertThat(
            broken("certificate = auto", "certificate = \"api.pem\"")
                .only("api.pem", "tollgate.routes[2].certificate"))
        .endsWith("; to use a file write certificate { chain = \"api.pem\", key = \"...\" }");
  }

  @Test
  void certificateOfWrongType() {
    assertThat(
            broken("certificate = auto", "certificate = 443")
                .only("certificate = 443", "tollgate.routes[2].certificate"))
        .isEqualTo("expected " + Schema.CERTIFICATE.expected() + ", got a number 443");
    assertThat(
            broken("certificate = auto", "certificate = true")
                .only("certificate = true", "tollgate.routes[2].certificate"))
        .isEqualTo("expected " + Schema.CERTIFICATE.expected() + ", got a boolean");
    assertThat(
            broken("certificate = auto", "certificate = null")
                .only("certificate = null", "tollgate.routes[2].certificate"))
        .isEqualTo("expected " + Schema.CERTIFICATE.expected() + ", got null");
  }

  @Test
  void certificateListMustHoldOneOrTwoObjects() {
    assertThat(
            broken("certificate = auto", "certificate = []")
                .only("certificate = []", "tollgate.routes[2].certificate"))
        .isEqualTo("no certificates (expected " + Schema.CERTIFICATE.expected() + ")");

    String three = "{ chain = shop.pem, key = shop.key }";
    assertThat(
            broken(
                    "certificate = auto",
                    "certificate = [" + three + ", " + three + ", " + three + "]")
                .only("certificate = [", "tollgate.routes[2].certificate"))
        .isEqualTo(
            "3 certificates (expected at most 2: one with an ECDSA key and one with an"
                + " RSA key)");

    var loaded = broken("certificate = auto", "certificate = [" + three + ", auto]");
    assertThat(loaded.only("certificate = [", "tollgate.routes[2].certificate[1]"))
        .isEqualTo(
            "expected a certificate such as { chain = \"site.pem\", key = \"site.key\" },"
                + " got a string \"auto\"");
  }

  @Test
  void certificateObjectNeedsChainAndKeyAndKnowsItsKeys() {
    var loaded =
        broken(
            "certificate { chain = \"shop.pem\", key = \"shop.key\" }",
            "certificate { chian = \"shop.pem\", ocsp = \"shop.pem\" }");

    assertThat(loaded.errors())
        .extracting(ConfigError::path)
        .containsExactly(
            "tollgate.routes[1].certificate.chian",
            "tollgate.routes[1].certificate.chain",
            "tollgate.routes[1].certificate.key");
    assertThat(loaded.errorAt("chian", "tollgate.routes[1].certificate.chian").message())
        .isEqualTo("unknown key \"chian\" in certificate (did you mean \"chain\"?)");
    assertThat(loaded.errorAt("chian", "tollgate.routes[1].certificate.key").message())
        .isEqualTo("missing required key \"key\" (expected a PEM file with the private key)");
  }

  @Test
  void certificateInAListElementIsReportedWithItsIndex() {
    var loaded =
        broken(
            "certificate = auto",
            """
        certificate = [
              { chain = shop.pem, key = shop.key }
              { chain = rsa.pem, key = shop.key }
            ]""");

    assertThat(loaded.only("rsa.pem", "tollgate.routes[2].certificate[1].chain"))
        .isEqualTo(
            "file not found: "
                + abs("rsa.pem")
                + " (\"rsa.pem\" is relative to the config file's directory)");
  }

  // ---- files

  @Test
  void everyFileNamedMustExist() {
    var loaded =
        files.loadBroken(
            BASE.replace("shop.key", "gone/shop.key")
                .replace("clients-ca.pem", "/nonexistent/ca.pem")
                .replace("backend-ca.pem", "~/backend-ca.pem"));

    assertThat(loaded.errors()).hasSize(3);
    assertThat(loaded.errorAt("gone/shop.key", "tollgate.routes[1].certificate.key").message())
        .isEqualTo(
            "file not found: "
                + abs("gone/shop.key")
                + " (\"gone/shop.key\" is relative to the config file's directory)");
    assertThat(loaded.errorAt("/nonexistent/ca.pem", "tollgate.routes[1].client-auth.ca").message())
        .isEqualTo("file not found: /nonexistent/ca.pem");
    assertThat(loaded.errorAt("~/backend-ca.pem", "tollgate.pools.api.tls.ca").message())
        .isEqualTo(
            "file not found: "
                + abs("~/backend-ca.pem")
                + " (\"~/backend-ca.pem\" is"
                + " relative to the config file's directory; ~ is not expanded, write the full"
                + " path)");
  }

  @Test
  void aDirectoryIsNotAFileAndAFileIsNotADirectory() {
    var loaded =
        files.loadBroken(
            BASE.replace("\"shop.pem\"", "\"certs\"")
                .replace("directory = \"certs/\"", "directory = \"shop.pem\""));

    assertThat(loaded.errorAt("directory", "tollgate.certificates.directory").message())
        .isEqualTo(
            "not a directory: "
                + abs("shop.pem")
                + " (expected "
                + Schema.DIRECTORY.expected()
                + ")");
    assertThat(loaded.errorAt("\"certs\"", "tollgate.routes[1].certificate.chain").message())
        .isEqualTo(
            "not a file: "
                + abs("certs")
                + " is a directory (expected "
                + Schema.CHAIN.expected()
                + ")");
  }

  @Test
  void emptyPath() {
    assertThat(
            broken("key = \"shop.key\"", "key = \"\"")
                .only("key = \"\"", "tollgate.routes[1].certificate.key"))
        .isEqualTo("empty path (expected a PEM file with the private key)");
  }

  @Test
  void unreadableFile() throws Exception {
    Path key = dir.resolve("shop.key");
    Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("---------"));
    // root reads anything, so there is nothing to see when the tests run as root.
    assumeFalse(Files.isReadable(key), "running as root");

    assertThat(files.loadBroken(BASE).only("shop.key", "tollgate.routes[1].certificate.key"))
        .startsWith("not readable: " + abs("shop.key") + " (Tollgate runs as user ");
  }

  // ---- TLS keys where TLS is not terminated

  @Test
  void passthroughRoutesRefuseEveryTlsKeyOneErrorEach() {
    var loaded = broken("mode = offload, pool = web,", "mode = passthrough, pool = web,");

    assertThat(loaded.errors())
        .extracting(ConfigError::path)
        .containsExactly(
            "tollgate.routes[1].certificate",
            "tollgate.routes[1].alpn",
            "tollgate.routes[1].protocols",
            "tollgate.routes[1].ciphers",
            "tollgate.routes[1].client-auth");
    assertThat(loaded.errorAt("certificate {", "tollgate.routes[1].certificate").message())
        .isEqualTo(
            "only offload and reencrypt routes terminate TLS; this route is passthrough,"
                + " so certificate would do nothing (set mode = offload or mode = reencrypt, or"
                + " remove certificate)");
    assertThat(loaded.errorAt("client-auth", "tollgate.routes[1].client-auth").message())
        .startsWith(
            "only offload and reencrypt routes terminate TLS; this route is"
                + " passthrough, so client-auth would do nothing");
  }

  @Test
  void aRouteWithoutModeIsPassthroughAndSaysSo() {
    var loaded =
        broken(
            "{ hosts = [\"pass.test\"], mode = passthrough, pool = web }",
            "{ hosts = [\"pass.test\"], pool = web, alpn = [h2] }");

    assertThat(loaded.only("pass.test", "tollgate.routes[0].alpn"))
        .startsWith(
            "only offload and reencrypt routes terminate TLS; this route is passthrough"
                + " (the default mode), so alpn would do nothing");
  }

  @Test
  void offloadDefaultRouteNeedsItsOwnCertificate() {
    var loaded =
        broken("default-route { pool = web }", "default-route { pool = web, mode = offload }");

    assertThat(loaded.only("default-route", "tollgate.default-route.certificate"))
        .startsWith("missing required key \"certificate\"");
    assertThat(
            broken(
                    "default-route { pool = web }",
                    "default-route { pool = web, mode = reencrypt, certificate = auto }")
                .only("mode = reencrypt, certificate = auto", "tollgate.default-route.certificate"))
        .startsWith("certificate = auto is not supported on a default route");
  }

  @Test
  void passthroughDefaultRouteRefusesTlsKeys() {
    var loaded =
        broken(
            "default-route { pool = web }",
            "default-route { pool = web, certificate = auto, protocols = [TLSv1.3] }");

    assertThat(loaded.errors()).hasSize(2);
    assertThat(loaded.errorAt("default-route", "tollgate.default-route.certificate").message())
        .isEqualTo(
            "only offload and reencrypt routes terminate TLS; this route is passthrough (the"
                + " default mode), so certificate would do nothing (set mode = offload or mode ="
                + " reencrypt, or remove certificate)");
    loaded.errorAt("default-route", "tollgate.default-route.protocols");
    assertThat(
            broken("default-route { pool = web }", "default-route { pool = web, banana = 1 }")
                .only("banana", "tollgate.default-route.banana"))
        .startsWith("unknown key \"banana\" in default-route (expected one of: mode, pool,");
  }

  // ---- protocols

  @Test
  void protocolsBeforeTls12AreDeprecated() {
    var loaded =
        broken(
            "protocols = [\"TLSv1.2\", \"TLSv1.3\"]",
            "protocols = [\"TLSv1\", \"tlsv1.1\", \"SSLv3\", \"TLSv1.0\"]");

    assertThat(loaded.errors()).hasSize(4);
    assertThat(loaded.errorAt("protocols", "tollgate.routes[1].protocols[0]").message())
        .isEqualTo(
            "\"TLSv1\" is deprecated (RFC 8996) and not supported (expected TLSv1.2 or"
                + " TLSv1.3)");
    assertThat(loaded.errorAt("protocols", "tollgate.routes[1].protocols[1]").message())
        .isEqualTo(
            "\"tlsv1.1\" is deprecated (RFC 8996) and not supported (expected TLSv1.2 or"
                + " TLSv1.3)");
    assertThat(loaded.errorAt("protocols", "tollgate.routes[1].protocols[2]").message())
        .isEqualTo(
            "\"SSLv3\" is deprecated (RFC 7568, and RFC 8996 retires every version"
                + " before TLS 1.2) and not supported (expected TLSv1.2 or TLSv1.3)");
    assertThat(loaded.errorAt("protocols", "tollgate.routes[1].protocols[3]").message())
        .contains("deprecated (RFC 8996)");
  }

  @Test
  void protocolsMustBeKnownNonEmptyAndUnique() {
    assertThat(
            broken("protocols = [\"TLSv1.2\", \"TLSv1.3\"]", "protocols = [\"TLS1.3\"]")
                .only("TLS1.3", "tollgate.routes[1].protocols[0]"))
        .isEqualTo(
            "\"TLS1.3\" is not a supported TLS version (expected TLSv1.2 or TLSv1.3)"
                + " (did you mean \"TLSv1.3\"?)");
    assertThat(
            broken("protocols = [\"TLSv1.2\", \"TLSv1.3\"]", "protocols = []")
                .only("protocols", "tollgate.routes[1].protocols"))
        .isEqualTo(
            "no protocols (expected a non-empty list of TLS versions from TLSv1.2," + " TLSv1.3)");
    assertThat(
            broken(
                    "protocols = [\"TLSv1.2\", \"TLSv1.3\"]",
                    "protocols = [\"TLSv1.3\", \"tlsv1.3\"]")
                .only("protocols", "tollgate.routes[1].protocols[1]"))
        .isEqualTo("\"tlsv1.3\" (TLSv1.3) is listed twice (expected each version once)");
    assertThat(
            broken("protocols = [\"TLSv1.2\", \"TLSv1.3\"]", "protocols = \"TLSv1.3\"")
                .only("protocols", "tollgate.routes[1].protocols"))
        .isEqualTo(
            "expected a non-empty list of TLS versions from TLSv1.2, TLSv1.3, got a"
                + " string \"TLSv1.3\"");
  }

  // ---- ciphers

  @Test
  void ciphersAreOneNonEmptyNamePerElement() {
    var loaded =
        broken(
            "ciphers = [\"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\"]",
            "ciphers = [\"\", \"ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256\","
                + " { name = x }]");

    assertThat(loaded.errors()).hasSize(3);
    assertThat(loaded.errorAt("ciphers", "tollgate.routes[1].ciphers[0]").message())
        .startsWith("empty cipher suite name (expected a cipher suite name such as");
    assertThat(loaded.errorAt("ciphers", "tollgate.routes[1].ciphers[1]").message())
        .startsWith(
            "\"ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256\" is not one"
                + " cipher suite name (expected one name per list element");
    assertThat(loaded.errorAt("ciphers", "tollgate.routes[1].ciphers[2]").message())
        .startsWith("expected a cipher suite name such as")
        .endsWith("got an object");
  }

  // ---- alpn

  @Test
  void alpnNamesArePrintableAsciiOfAtMost255BytesAndUnique() {
    var loaded =
        broken(
            "alpn = [\"http/1.1\"]",
            "alpn = [\"\", \"h 2\", \"h2\\u00e9\", \"" + "x".repeat(256) + "\", \"h2\", \"h2\"]");

    assertThat(loaded.errors())
        .extracting(ConfigError::path)
        .containsExactly(
            "tollgate.routes[1].alpn[0]",
            "tollgate.routes[1].alpn[1]",
            "tollgate.routes[1].alpn[2]",
            "tollgate.routes[1].alpn[3]",
            "tollgate.routes[1].alpn[5]");
    assertThat(loaded.errorAt("alpn", "tollgate.routes[1].alpn[0]").message())
        .isEqualTo(
            "empty ALPN protocol name (expected an ALPN protocol name such as \"h2\" or"
                + " \"http/1.1\")");
    assertThat(loaded.errorAt("alpn", "tollgate.routes[1].alpn[1]").message())
        .isEqualTo(
            "\"h 2\" contains a space (expected printable ASCII without spaces, e.g."
                + " \"h2\" or \"http/1.1\")");
    assertThat(loaded.errorAt("alpn", "tollgate.routes[1].alpn[2]").message())
        .startsWith("\"h2\u00e9\" contains U+00E9");
    assertThat(loaded.errorAt("alpn", "tollgate.routes[1].alpn[3]").message())
        .isEqualTo("ALPN protocol name of 256 bytes (expected 1..255 bytes, RFC 7301)");
    assertThat(loaded.errorAt("alpn", "tollgate.routes[1].alpn[5]").message())
        .isEqualTo("\"h2\" is listed twice (expected each protocol once)");
  }

  // ---- client-auth

  @Test
  void clientAuthNeedsAValidModeAndACa() {
    var loaded =
        broken(
            "client-auth { mode = require, ca = \"clients-ca.pem\" }",
            "client-auth { mode = sometimes, cA = \"clients-ca.pem\" }");

    assertThat(loaded.errors())
        .extracting(ConfigError::path)
        .containsExactly(
            "tollgate.routes[1].client-auth.cA",
            "tollgate.routes[1].client-auth.mode",
            "tollgate.routes[1].client-auth.ca");
    assertThat(loaded.errorAt("client-auth", "tollgate.routes[1].client-auth.mode").message())
        .isEqualTo(
            "\"sometimes\" is not a valid client-auth mode (expected one of: require,"
                + " optional)");
    assertThat(loaded.errorAt("client-auth", "tollgate.routes[1].client-auth.ca").message())
        .isEqualTo(
            "missing required key \"ca\" (expected a PEM file of the CA certificates"
                + " that issue client certificates)");
    assertThat(loaded.errorAt("client-auth", "tollgate.routes[1].client-auth.cA").message())
        .isEqualTo("unknown key \"cA\" in client-auth (did you mean \"ca\"?)");
  }

  @Test
  void clientAuthWithoutModeOrOfWrongType() {
    assertThat(
            broken("mode = require, ca", "ca")
                .only("client-auth", "tollgate.routes[1].client-auth.mode"))
        .isEqualTo("missing required key \"mode\" (expected require or optional)");
    assertThat(
            broken(
                    "client-auth { mode = require, ca = \"clients-ca.pem\" }",
                    "client-auth = require")
                .only("client-auth", "tollgate.routes[1].client-auth"))
        .isEqualTo("expected " + Schema.CLIENT_AUTH.expected() + ", got a string \"require\"");
  }

  // ---- route keys

  @Test
  void unknownRouteKeySuggestsTheTlsKey() {
    assertThat(
            broken("alpn = [\"http/1.1\"]", "alpns = [\"http/1.1\"]")
                .only("alpns", "tollgate.routes[1].alpns"))
        .isEqualTo("unknown key \"alpns\" in route (did you mean \"alpn\"?)");
    assertThat(
            broken("certificate {", "certificates {")
                .errorAt("certificates { chain", "tollgate.routes[1].certificates")
                .message())
        .isEqualTo("unknown key \"certificates\" in route (did you mean \"certificate\"?)");
  }

  @Test
  void aRouteWithAnUnknownModeStillHasItsTlsKeysChecked() {
    var loaded =
        broken(
            "mode = passthrough, pool = web }", "mode = ofload, pool = web, protocols = [SSLv3] }");

    assertThat(loaded.errors())
        .extracting(ConfigError::path)
        .containsExactly("tollgate.routes[0].mode", "tollgate.routes[0].protocols[0]");
    assertThat(loaded.errorAt("ofload", "tollgate.routes[0].mode").message())
        .endsWith("(did you mean \"offload\"?)");
  }

  // ---- pools' tls

  @Test
  void poolServerNameIsOneExactDnsName() {
    assertThat(
            broken("server-name = \"api.internal\"", "server-name = \"*.internal\"")
                .only("server-name", "tollgate.pools.api.tls.server-name"))
        .isEqualTo(
            "\"*.internal\" is a wildcard (expected one exact name: it is sent as SNI and"
                + " the servers' certificate must match it)");
    assertThat(
            broken("server-name = \"api.internal\"", "server-name = \"10.0.0.5\"")
                .only("server-name", "tollgate.pools.api.tls.server-name"))
        .startsWith("\"10.0.0.5\" is an IP address, which SNI cannot carry (RFC 6066)");
    assertThat(
            broken("server-name = \"api.internal\"", "server-name = \"api..internal\"")
                .only("server-name", "tollgate.pools.api.tls.server-name"))
        .startsWith("\"api..internal\" is not a valid host name: has an empty label");
    assertThat(
            broken("server-name = \"api.internal\"", "server-name = \"\"")
                .only("server-name", "tollgate.pools.api.tls.server-name"))
        .isEqualTo("\"\" is empty (expected a host name such as api.internal)");
  }

  @Test
  void poolTlsKeysAreCheckedLikeTheRest() {
    var loaded =
        broken(
            "verify = true }",
            "verfy = false, verify = maybe, protocols = [TLSv1.1],\n"
                + "                certificate { chain = shop.pem, key = shop.key, ocsp = x } }");

    assertThat(loaded.errors())
        .extracting(ConfigError::path)
        .containsExactly(
            "tollgate.pools.api.tls.verfy",
            "tollgate.pools.api.tls.verify",
            "tollgate.pools.api.tls.protocols[0]",
            "tollgate.pools.api.tls.certificate.ocsp");
    assertThat(loaded.errorAt("verfy", "tollgate.pools.api.tls.verfy").message())
        .isEqualTo("unknown key \"verfy\" in pool tls (did you mean \"verify\"?)");
    assertThat(loaded.errorAt("verfy", "tollgate.pools.api.tls.verify").message())
        .isEqualTo("expected true or false, got a string \"maybe\"");
    assertThat(loaded.errorAt("ocsp", "tollgate.pools.api.tls.certificate.ocsp").message())
        .isEqualTo("unknown key \"ocsp\" in client certificate (expected one of: chain, key)");
  }

  @Test
  void poolTlsMustBeAnObject() {
    assertThat(
            broken(
                    "tls { ca = \"backend-ca.pem\", server-name = \"api.internal\", verify ="
                        + " true }",
                    "tls = on")
                .only("tls = on", "tollgate.pools.api.tls"))
        .isEqualTo("expected " + Schema.POOL_TLS.expected() + ", got a string \"on\"");
  }

  // ---- tollgate.tls, tollgate.certificates, timeouts.handshake

  @Test
  void sessionSettingsAreChecked() {
    var loaded =
        broken(
            "tls { session-cache-size = 20000 }",
            """
        tls {
            session-tickets = sometimes
            session-ticket-keys = "ticket.keys"
            session-cache-size = 10000001
            session-timeout = 0s
            session-ticket = true
          }""");

    assertThat(loaded.errors())
        .extracting(ConfigError::path)
        .containsExactly(
            "tollgate.tls.session-tickets",
            "tollgate.tls.session-ticket-keys",
            "tollgate.tls.session-cache-size",
            "tollgate.tls.session-timeout",
            "tollgate.tls.session-ticket");
    assertThat(loaded.errorAt("sometimes", "tollgate.tls.session-tickets").message())
        .isEqualTo("expected true or false, got a string \"sometimes\"");
    assertThat(loaded.errorAt("ticket.keys", "tollgate.tls.session-ticket-keys").message())
        .isEqualTo(
            "file not found: "
                + abs("ticket.keys")
                + " (\"ticket.keys\" is relative to the config file's directory)");
    assertThat(loaded.errorAt("10000001", "tollgate.tls.session-cache-size").message())
        .isEqualTo("10000001 is out of range (expected 0..10000000)");
    assertThat(loaded.errorAt("0s", "tollgate.tls.session-timeout").message())
        .isEqualTo("\"0s\" is not positive (expected a positive duration such as 5m)");
    assertThat(loaded.errorAt("session-ticket = true", "tollgate.tls.session-ticket").message())
        .isEqualTo("unknown key \"session-ticket\" in tls (did you mean \"session-tickets\"?)");
  }

  @Test
  void sessionCacheSizeIsAWholeNumber() {
    assertThat(
            broken("session-cache-size = 20000", "session-cache-size = -1")
                .only("session-cache-size", "tollgate.tls.session-cache-size"))
        .isEqualTo("-1 is out of range (expected 0..10000000)");
    assertThat(
            broken("session-cache-size = 20000", "session-cache-size = 2.5")
                .only("session-cache-size", "tollgate.tls.session-cache-size"))
        .isEqualTo("2.5 is not a whole number (expected 0..10000000)");
  }

  @Test
  void certificatesSectionIsChecked() {
    var loaded =
        broken(
            "certificates { directory = \"certs/\" }",
            "certificates { directory = \"certs/\", trusted-roots = roots.pem, dir = x }");

    assertThat(loaded.errors())
        .extracting(ConfigError::path)
        .containsExactly("tollgate.certificates.dir", "tollgate.certificates.trusted-roots");
    assertThat(loaded.errorAt("roots.pem", "tollgate.certificates.trusted-roots").message())
        .startsWith("file not found: " + abs("roots.pem"));
    assertThat(loaded.errorAt("roots.pem", "tollgate.certificates.dir").message())
        .isEqualTo("unknown key \"dir\" in certificates (did you mean \"directory\"?)");
  }

  @Test
  void handshakeTimeoutIsAPositiveDuration() {
    assertThat(
            broken("handshake = 10s", "handshake = 0s")
                .only("handshake", "tollgate.timeouts.handshake"))
        .isEqualTo("\"0s\" is not positive (expected a positive duration such as 10s)");
    assertThat(
            broken("handshake = 10s", "handshake = quick")
                .only("handshake", "tollgate.timeouts.handshake"))
        .startsWith("\"quick\" is not a duration (expected a positive duration such as 10s");
  }

  // ---- all at once

  @Test
  void reportsEveryTlsMistakeInOneRunInFileOrder() {
    String text =
        """
        tollgate {
          listeners = [ { name = main, address = "127.0.0.1:8443" } ]
          timeouts.handshake = -1s
          tls.session-timeout = never
          routes = [
            { hosts = [a.test], pool = web, alpn = [h2] }
            { hosts = [b.test], mode = offload, pool = web, protocols = [TLSv1] }
            { hosts = [c.test], mode = reencrypt, pool = api, certificate = auto }
          ]
          default-route { pool = web, mode = offload }
          pools {
            web { servers = ["127.0.0.1:9080"] }
            api { servers = ["10.0.0.5:443"], tls { server-name = "*.x", ca = nope.pem } }
          }
        }
        """;

    var loaded = files.loadBroken(text);

    assertThat(loaded.errors())
        .extracting(ConfigError::path)
        .containsExactly(
            "tollgate.timeouts.handshake",
            "tollgate.tls.session-timeout",
            "tollgate.routes[0].alpn",
            "tollgate.routes[1].certificate",
            "tollgate.routes[1].protocols[0]",
            "tollgate.routes[2].certificate",
            "tollgate.default-route.certificate",
            "tollgate.pools.api.tls.ca",
            "tollgate.pools.api.tls.server-name");
    assertThat(loaded.errors())
        .allSatisfy(e -> assertThat(e.origin()).startsWith(loaded.file() + ":"));
    loaded.errorAt("protocols = [TLSv1]", "tollgate.routes[1].protocols[0]");
    loaded.errorAt("nope.pem", "tollgate.pools.api.tls.ca");
  }
}
