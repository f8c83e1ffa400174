package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tollgate.config.ConfigException;
import io.tollgate.config.ConfigLoader;
import io.tollgate.ops.Reloader;
import io.tollgate.pki.CertificateAuthority;
import io.tollgate.pki.CertificateAuthority.KeyType;
import io.tollgate.pki.IssuedCertificate;
import io.tollgate.testkit.TlsTestClient;
import io.tollgate.testkit.TlsTestServer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Certificates change on reload for new connections only: a connection that completed its handshake
 * before keeps its session, and a reload whose new certificate is unusable is refused while the old
 * certificate stays in service.
 */
class CertificateReloadTest {
  @TempDir Path dir;

  @Test
  void newConnectionsGetTheNewCertificateLiveOnesAreUntouched() throws Exception {
    CertificateAuthority ca = CertificateAuthority.create("Reload CA", KeyType.EC_P256);
    ca.writeCertificatePem(dir.resolve("ca.pem"));
    IssuedCertificate first = ca.issue(KeyType.EC_P256, "shop.test");
    IssuedCertificate second = ca.issue(KeyType.RSA_2048, "shop.test", "www.shop.test");
    first.writePem(dir, "shop");
    try (TlsTestServer backend = TlsTestServer.startPlain(TlsTestServer.greet("shop"));
        TollgateFixture tollgate =
            TollgateFixture.startIn(
                dir,
                String.format(
                    """
            certificates { trusted-roots = "ca.pem" }
            routes = [ { hosts = ["shop.test"], mode = offload, pool = shop,
                         certificate { chain = "shop.pem", key = "shop.key" } } ]
            pools { shop { servers = ["127.0.0.1:%d"] } }
            """,
                    backend.port()))) {
      TlsTestClient.Connection live = TlsTestClient.connect(tollgate.port(), "shop.test", ca);
      try (live) {
        BufferedReader liveIn = reader(live);
        assertThat(liveIn.readLine()).isEqualTo("shop");
        assertThat(live.peerCertificate()).isEqualTo(first.certificate());

        second.writePem(dir, "shop");
        tollgate.tollgate().reload(ConfigLoader.load(dir.resolve("tollgate.conf")));

        try (TlsTestClient.Connection fresh =
            TlsTestClient.connect(tollgate.port(), "shop.test", ca)) {
          assertThat(fresh.peerCertificate()).isEqualTo(second.certificate());
          assertThat(reader(fresh).readLine()).isEqualTo("shop");
        }
        // The connection from before the reload still works, on its old session.
        OutputStream out = live.socket().getOutputStream();
        out.write("still here\n".getBytes(StandardCharsets.UTF_8));
        out.flush();
        assertThat(liveIn.readLine()).isEqualTo("still here");
        assertThat(live.socket().getSession().getPeerCertificates()[0])
            .isEqualTo(first.certificate());

        // A key that does not match its certificate: refused, the old material stays.
        Files.writeString(dir.resolve("shop.key"), ca.issue(KeyType.RSA_2048, "x.test").keyPem());
        assertThatThrownBy(
                () -> tollgate.tollgate().reload(ConfigLoader.load(dir.resolve("tollgate.conf"))))
            .isInstanceOf(ConfigException.class)
            .hasMessageContaining("shop.key")
            .hasMessageContaining("does not match");
        try (TlsTestClient.Connection after =
            TlsTestClient.connect(tollgate.port(), "shop.test", ca)) {
          assertThat(after.peerCertificate()).isEqualTo(second.certificate());
        }
      }
    }
  }

  /**
   * A tenant file and certificate files older than the load are recorded by it as known unchanged
   * (the file watch's tokens), so the first reload after it takes the tenant's route over whole
   * without looking at its files unless the watch saw one change: a certificate renewed in place
   * before that first reload must still be served after it.
   */
  @Test
  void aCertificateRenewedInPlaceBeforeTheFirstReloadIsServedAfterIt() throws Exception {
    CertificateAuthority ca = CertificateAuthority.create("Renew CA", KeyType.EC_P256);
    ca.writeCertificatePem(dir.resolve("ca.pem"));
    IssuedCertificate first = ca.issue(KeyType.EC_P256, "shop.test");
    IssuedCertificate renewed = ca.issue(KeyType.EC_P256, "shop.test");
    IssuedCertificate.PemFiles files = first.writePem(dir, "shop");
    try (TlsTestServer backend = TlsTestServer.startPlain(TlsTestServer.greet("shop"))) {
      Path tenant =
          Files.writeString(
              Files.createDirectories(dir.resolve("tenants")).resolve("shop.conf"),
              String.format(
                  """
                  routes = [ { hosts = ["shop.test"], mode = offload, pool = shop,
                               certificate { chain = "shop.pem", key = "shop.key" } } ]
                  pools { shop { servers = ["127.0.0.1:%d"] } }
                  """,
                  backend.port()));
      FileTime hourAgo = FileTime.from(Instant.now().minus(Duration.ofHours(1)));
      for (Path p : List.of(files.certificateChain(), files.privateKey(), tenant)) {
        Files.setLastModifiedTime(p, hourAgo);
      }
      try (TollgateFixture tollgate =
          TollgateFixture.startIn(
              dir,
              """
              certificates { trusted-roots = "ca.pem" }
              tenants-directory = "tenants"
              """)) {
        try (TlsTestClient.Connection c = TlsTestClient.connect(tollgate.port(), "shop.test", ca)) {
          assertThat(c.peerCertificate()).isEqualTo(first.certificate());
        }
        // Rewritten in place: same inode, new time.
        renewed.writePem(dir, "shop");
        Reloader.Result result =
            new Reloader(dir.resolve("tollgate.conf"), tollgate.tollgate()).reload("test");
        assertThat(result.ok()).as("%s", result.errors()).isTrue();
        try (TlsTestClient.Connection c = TlsTestClient.connect(tollgate.port(), "shop.test", ca)) {
          assertThat(c.peerCertificate()).isEqualTo(renewed.certificate());
        }
      }
    }
  }

  private static BufferedReader reader(TlsTestClient.Connection c) throws Exception {
    return new BufferedReader(
        new InputStreamReader(c.socket().getInputStream(), StandardCharsets.UTF_8));
  }
}
