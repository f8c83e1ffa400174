package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.Tollgate;
import io.tollgate.admin.AdminServer;
import io.tollgate.config.ConfigLoader;
import io.tollgate.connection.CloseReason;
import io.tollgate.ops.Operations;
import io.tollgate.testkit.TlsTestServer;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** In-process: the drain's close reason, and {@code watch = true}. */
@Timeout(60)
class ShutdownAndWatchTest {
  @TempDir Path dir;

  @Test
  void connectionsStillOpenWhenTheDrainEndsAreClosedWithReasonShutdown() throws Exception {
    try (TlsTestServer backend = TlsTestServer.startPlain(TlsTestServer.greet("x"));
        TollgateFixture tollgate =
            TollgateFixture.start(
                String.format(
                    """
            routes = [ { hosts = ["web.test"], pool = web } ]
            pools { web { servers = ["127.0.0.1:%d"] } }
            """,
                    backend.port()))) {
      Socket open = new Socket(InetAddress.getLoopbackAddress(), tollgate.port());
      open.getOutputStream().write(JdkClientHello.forName("web.test", List.of()));
      InputStream in = open.getInputStream();
      assertThat(in.read()).isEqualTo('x');
      TollgateFixture.await(
          () -> tollgate.tollgate().openConnections() == 1, Duration.ofSeconds(5));
      int cut = tollgate.tollgate().shutdown(Duration.ofMillis(300));
      assertThat(cut).isEqualTo(1);
      open.setSoTimeout(5000);
      while (in.read() >= 0) {
        // the greeting's newline, the echoed hello
      }
      tollgate.awaitClosed(CloseReason.SHUTDOWN, 1);
      open.close();
    }
  }

  @Test
  void watchReloadsWhenTheConfigOrACertificateChanges() throws Exception {
    var ca =
        io.tollgate.pki.CertificateAuthority.create(
            "Watch CA", io.tollgate.pki.CertificateAuthority.KeyType.EC_P256);
    ca.writeCertificatePem(dir.resolve("ca.pem"));
    ca.issue(io.tollgate.pki.CertificateAuthority.KeyType.EC_P256, "shop.test")
        .writePem(dir, "shop");
    String conf =
        """
        tollgate {
          listeners = [ { name = main, address = "127.0.0.1:0" } ]
          watch = true
          certificates { trusted-roots = "ca.pem" }
          routes = [ { hosts = ["shop.test"], mode = offload, pool = web,
                       certificate { chain = "shop.pem", key = "shop.key" } } ]
          pools { web { servers = ["127.0.0.1:9"] } }
        }
        """;
    Path file = Files.writeString(dir.resolve("tollgate.conf"), conf);
    Tollgate tollgate = Tollgate.start(ConfigLoader.load(file));
    try (Operations ops =
        Operations.start(file, ConfigLoader.load(file), tollgate, null, AdminServer::start)) {
      Files.writeString(file, conf.replace("shop.test\"]", "shop.test\", \"www.shop.test\"]"));
      TollgateFixture.await(() -> tollgate.configVersion() == 2, Duration.ofSeconds(10));
      assertThat(tollgate.configVersion()).isEqualTo(2);
      assertThat(tollgate.snapshot().router().route("www.shop.test").route()).isNotNull();

      Thread.sleep(1100); // a different modification time, whatever the file system's grain
      ca.issue(io.tollgate.pki.CertificateAuthority.KeyType.EC_P256, "shop.test")
          .writePem(dir, "shop");
      TollgateFixture.await(() -> tollgate.configVersion() == 3, Duration.ofSeconds(10));
      assertThat(tollgate.configVersion()).isEqualTo(3);
      // The reloader counts a reload after Tollgate has put the new config in force.
      TollgateFixture.await(() -> ops.reloader().succeeded() == 2, Duration.ofSeconds(10));
      assertThat(ops.reloader().succeeded()).isEqualTo(2);
    } finally {
      tollgate.close();
    }
  }
}
