package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.it.ClosePeer.Received;
import io.tollgate.pki.CertificateAuthority;
import io.tollgate.pki.CertificateAuthority.KeyType;
import io.tollgate.testkit.DataPattern;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code timeouts.lingering-close} bounds how long a client whose bytes have nowhere to go (the
 * reencrypt backend ended TLS) is read and dropped while it goes on sending: it is reset then. With
 * no bound, a client uploading after the backend's end cost the proxy its reads for as long as it
 * liked.
 */
@Timeout(120)
class LingeringCloseTest {
  private static final long MIB = 1 << 20;

  @TempDir static Path dir;
  @RegisterExtension static final ClassResources resources = new ClassResources();
  private static CertificateAuthority ca;
  private static ScriptedBackend backend;
  static TollgateFixture tollgate;

  @BeforeAll
  static void start(TestInfo info) throws Exception {
    ca = CertificateAuthority.create("Lingering close CA", KeyType.EC_P256);
    ca.writeCertificatePem(dir.resolve("ca.pem"));
    ca.issue(KeyType.EC_P256, "*.re.test").writePem(dir, "front");
    backend =
        resources.add(new ScriptedBackend(ca.issue(KeyType.EC_P256, "*.re.test").serverContext()));
    tollgate =
        resources.add(
            TollgateFixture.startIn(
                dir,
                String.format(
                    """
        access-log { path = "access.log" }
        io { transport = %s }
        timeouts { connect = 2s, idle = 60s, lingering-close = 2s }
        certificates { trusted-roots = "ca.pem" }
        routes = [
          { hosts = ["*.re.test"], mode = reencrypt, pool = re,
            certificate { chain = "front.pem", key = "front.key" } }
        ]
        pools {
          re { servers = ["127.0.0.1:%d"], connect-attempts = 1, passive-ejection.failures = 0,
               tls { ca = "ca.pem" } }
        }
        """,
                    TransportUnderTest.of(info), backend.port())));
  }

  @Test
  void aClientThatGoesOnSendingIsResetAtTheLingeringCloseBound() throws Exception {
    String sni = "up.re.test";
    CompletableFuture<Received> atBackend =
        backend.next(
            peer -> {
              Received first = peer.read(MIB);
              peer.writeAndEnd(new byte[1024], false); // answers and ends TLS, TCP open
              Received rest = peer.readToEnd();
              peer.close();
              return new Received(first.bytes() + rest.bytes(), first.sha256(), rest.end());
            });
    Socket socket = new Socket();
    socket.connect(
        new InetSocketAddress(InetAddress.getLoopbackAddress(), tollgate.port()), 10_000);
    socket.setSoTimeout(30_000);
    boolean reset = false;
    long started = System.nanoTime();
    try (ClosePeer client = ClosePeer.tlsClient(socket, ca.clientContext(), sni)) {
      DataPattern pattern = new DataPattern(DataPattern.CLIENT_SEED);
      byte[] chunk = new byte[DataPattern.CHUNK];
      long until = started + TimeUnit.SECONDS.toNanos(60); // bounded: far past the 2 s bound
      try {
        while (System.nanoTime() < until) {
          pattern.nextBytes(chunk, 0, chunk.length);
          client.write(chunk);
          Thread.sleep(2); // ~32 MiB/s, steady
        }
      } catch (IOException e) {
        reset = true;
      }
    }
    double seconds = (System.nanoTime() - started) / 1e9;
    assertThat(reset).as("the client was reset (after %.1f s)", seconds).isTrue();
    assertThat(atBackend.get(30, TimeUnit.SECONDS).sha256())
        .as("the first MiB reached the backend")
        .isEqualTo(DataPattern.sha256Hex(DataPattern.CLIENT_SEED, MIB));
    Map<String, Object> line =
        AccessLogFile.lineFor(dir.resolve("access.log"), sni, Duration.ofSeconds(15));
    assertThat(line.get("reason")).as("%s", line).isEqualTo("backend_closed");
    // Ended by the 2 s bound (checks every 5 s would have let it run past 5 s; the idle timeout is
    // 60 s), not at once: it was read while it sent.
    assertThat((Double) line.get("duration_ms")).as("%s", line).isBetween(1_000.0, 4_500.0);
  }
}
