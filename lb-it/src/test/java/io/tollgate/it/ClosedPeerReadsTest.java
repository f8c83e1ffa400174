package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.pki.CertificateAuthority;
import io.tollgate.pki.CertificateAuthority.KeyType;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Once Tollgate closed one side of a relay (max-lifetime here), the other side closes after its
 * flush; what it still sends meanwhile goes nowhere. Those reads were dropped but counted as
 * activity, so a backend that streamed and never read kept the connection (and the event loop) busy
 * for as long as it sent: 27 GiB in 17 s in this test, never closed.
 */
@Timeout(120)
class ClosedPeerReadsTest {
  private static final long MIB = 1 << 20;

  @TempDir static Path dir;
  @RegisterExtension static final ClassResources resources = new ClassResources();
  private static CertificateAuthority ca;
  private static ScriptedBackend backend;
  static TollgateFixture tollgate;

  @BeforeAll
  static void start() throws Exception {
    ca = CertificateAuthority.create("Closed peer CA", KeyType.EC_P256);
    ca.writeCertificatePem(dir.resolve("ca.pem"));
    ca.issue(KeyType.EC_P256, "*.off.test").writePem(dir, "front");
    backend = resources.add(new ScriptedBackend(null));
    tollgate =
        resources.add(
            TollgateFixture.startIn(
                dir,
                String.format(
                    """
        access-log { path = "access.log" }
        timeouts { connect = 2s, idle = 4s, max-lifetime = 3s }
        routes = [
          { hosts = ["*.off.test"], mode = offload, pool = off,
            certificate { chain = "front.pem", key = "front.key" } }
        ]
        pools {
          off { servers = ["127.0.0.1:%d"], connect-attempts = 1, passive-ejection.failures = 0 }
        }
        """,
                    backend.port())));
  }

  /**
   * The backend streams and never reads; the client reads all of it and uploads more than the
   * backend takes. Max-lifetime closes the client at 3 s. The backend channel then waits for a
   * flush that never comes, and the backend's bytes are read and dropped: with the idle timeout at
   * 4 s, the backend must be closed within a few seconds of the client.
   */
  @Test
  void backendIsClosedSoonAfterMaxLifetimeClosedTheClient() throws Exception {
    AtomicLong sent = new AtomicLong();
    AtomicLong lastWrite = new AtomicLong();
    CompletableFuture<Long> atBackend =
        backend.next(
            peer -> {
              byte[] chunk = new byte[64 * 1024];
              long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
              try {
                while (System.nanoTime() < deadline) {
                  peer.write(chunk);
                  sent.addAndGet(chunk.length);
                  lastWrite.set(System.nanoTime());
                }
              } catch (IOException e) {
                return -sent.get(); // Tollgate closed or reset us
              }
              return sent.get(); // still open after 20 s
            });
    Socket socket = new Socket();
    socket.connect(
        new InetSocketAddress(InetAddress.getLoopbackAddress(), tollgate.port()), 10_000);
    socket.setSoTimeout(30_000);
    ClosePeer client = ClosePeer.tlsClient(socket, ca.clientContext(), "h1.off.test");
    Thread uploader =
        new Thread(
            () -> {
              byte[] chunk = new byte[64 * 1024];
              try {
                for (int i = 0; i < 512; i++) {
                  client.write(chunk);
                }
              } catch (IOException e) {
                // closed
              }
            });
    uploader.setDaemon(true);
    uploader.start();
    ClosePeer.Received got = client.readToEnd();
    long clientEnded = System.nanoTime();
    long sentAtClientEnd = sent.get();
    socket.close();
    long result = atBackend.get(60, TimeUnit.SECONDS);
    long sentAfter = Math.abs(result) - sentAtClientEnd;
    assertThat(result).as("the backend was closed by Tollgate (negative)").isNegative();
    assertThat(sentAfter)
        .as("bytes the backend sent after the client was gone (read and dropped)")
        .isLessThan(64 * MIB);
  }
}
