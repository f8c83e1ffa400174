package io.tollgate.config.bind;

import static io.tollgate.config.ConfigFiles.with;
import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.config.AcmeConfig;
import io.tollgate.config.CertificateSource;
import io.tollgate.config.ConfigFiles;
import io.tollgate.config.ConfigLoader;
import io.tollgate.config.TollgateConfig;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tollgate.acme} and {@code certificate = acme} (issue 12): read, defaulted, checked. */
class AcmeConfigTest {
  static final String BASE =
      """
      tollgate {
        listeners = [ { name = main, address = "127.0.0.1:8443" } ]
        acme {
          directory = "https://acme-staging-v02.api.letsencrypt.org/directory"
          email = "ops@shop.test"
          storage = "acme"
        }
        routes = [
          { hosts = ["pass.test"], mode = passthrough, pool = web }
          { hosts = ["shop.test", "www.shop.test"], mode = offload, pool = web, certificate = acme }
        ]
        pools { web { servers = ["127.0.0.1:9080"] } }
      }
      """;

  @TempDir Path dir;
  private ConfigFiles files;

  @BeforeEach
  void setUp() {
    files = new ConfigFiles(dir);
  }

  private ConfigFiles.Loaded broken(String from, String to) {
    return files.loadBroken(with(BASE, from, to));
  }

  @Test
  void readWithDefaults() throws Exception {
    TollgateConfig config = ConfigLoader.load(files.write("tollgate.conf", BASE));

    AcmeConfig acme = config.acme().orElseThrow();
    assertThat(acme.directory())
        .isEqualTo(URI.create("https://acme-staging-v02.api.letsencrypt.org/directory"));
    assertThat(acme.email()).contains("ops@shop.test");
    assertThat(acme.storage()).isEqualTo(dir.resolve("acme").toAbsolutePath().normalize());
    assertThat(acme.ca()).isEmpty();
    assertThat(acme.challenge()).isEqualTo(AcmeConfig.Challenge.TLS_ALPN_01);
    assertThat(acme.renewBefore()).isEqualTo(Duration.ofDays(30));
    assertThat(acme.keyType()).isEqualTo(AcmeConfig.KeyType.EC_P256);
    assertThat(config.routes().get(1).tls().orElseThrow().certificate())
        .isInstanceOf(CertificateSource.Acme.class);
  }

  @Test
  void everyKeyWritten() throws Exception {
    files.touch("pebble-ca.pem");
    TollgateConfig config =
        ConfigLoader.load(
            files.write(
                "tollgate.conf",
                with(
                    BASE,
                    "storage = \"acme\"",
                    "storage = \"acme\", ca = \"pebble-ca.pem\", challenge = http-01,"
                        + " renew-before = 20d, key-type = both")));

    AcmeConfig acme = config.acme().orElseThrow();
    assertThat(acme.ca()).isEqualTo(Optional.of(dir.resolve("pebble-ca.pem")));
    assertThat(acme.challenge()).isEqualTo(AcmeConfig.Challenge.HTTP_01);
    assertThat(acme.renewBefore()).isEqualTo(Duration.ofDays(20));
    assertThat(acme.keyType()).isEqualTo(AcmeConfig.KeyType.BOTH);
  }

  @Test
  void absentByDefault() throws Exception {
    String withoutAcme =
        BASE.substring(0, BASE.indexOf("  acme {"))
            + BASE.substring(BASE.indexOf("  routes"))
                .replace(
                    "certificate = acme", "certificate { chain = \"s.pem\", key = \"s.key\" }");
    files.touch("s.pem", "s.key");
    assertThat(ConfigLoader.load(files.write("tollgate.conf", withoutAcme)).acme()).isEmpty();
  }

  @Test
  void certificateAcmeNeedsTheAcmeBlock() {
    String withoutAcme =
        BASE.substring(0, BASE.indexOf("  acme {")) + BASE.substring(BASE.indexOf("  routes"));
    assertThat(
            files
                .loadBroken(withoutAcme)
                .only("certificate = acme", "tollgate.routes[1].certificate"))
        .startsWith("certificate = acme needs an ACME CA, and there is none: add a tollgate.acme");
  }

  @Test
  void directoryMustBeAnHttpsUrl() {
    assertThat(
            broken("https://acme-staging", "http://acme-staging")
                .only("directory =", "tollgate.acme.directory"))
        .contains("is not an https URL");
    assertThat(
            files
                .loadBroken(
                    with(
                        BASE,
                        "    directory = \"https://acme-staging-v02.api.letsencrypt.org/directory\"\n",
                        ""))
                .only("acme {", "tollgate.acme.directory"))
        .startsWith("missing required key \"directory\"");
  }

  @Test
  void badValuesNameTheirKey() {
    assertThat(
            broken("storage = \"acme\"", "storage = \"acme\", challenge = dns-01")
                .only("challenge = dns-01", "tollgate.acme.challenge"))
        .contains("\"dns-01\" is not a valid challenge (expected one of: tls-alpn-01, http-01)");
    assertThat(
            broken("storage = \"acme\"", "storage = \"acme\", key-type = ec-p384")
                .only("key-type", "tollgate.acme.key-type"))
        .contains("expected one of: ec-p256, rsa-2048, both");
    assertThat(
            broken("storage = \"acme\"", "storage = \"acme\", renew-before = 0s")
                .only("renew-before", "tollgate.acme.renew-before"))
        .contains("is not positive");
    assertThat(broken("ops@shop.test", "ops.shop.test").only("email", "tollgate.acme.email"))
        .contains("is not an e-mail address");
    assertThat(
            broken("storage = \"acme\"", "storage = \"missing/acme\"")
                .only("storage", "tollgate.acme.storage"))
        .contains("does not exist");
    assertThat(
            broken("storage = \"acme\"", "storage = \"acme\", renew = 3d")
                .only("renew = 3d", "tollgate.acme.renew"))
        .contains("renew-before");
  }
}
