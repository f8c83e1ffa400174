package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.it.ClosePeer.End;
import io.tollgate.pki.CertificateAuthority;
import io.tollgate.pki.CertificateAuthority.KeyType;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Exceptions on the backend channel while Tollgate is still connecting (before the relay is wired):
 * a reencrypt backend that resets the connection as soon as it is accepted, and one that reads the
 * ClientHello of Tollgate's handshake and then resets. Each connection must end with a close reason
 * that says so and a clean close_notify toward the client, and no exception may reach the tail of a
 * Netty pipeline (where nobody handles it; the soak saw that happen).
 */
@Timeout(120)
class BackendResetWhileConnectingTest {
  private static final int CONNECTIONS = 20;

  @TempDir static Path dir;
  @RegisterExtension static final ClassResources resources = new ClassResources();
  private static final AtomicInteger ids = new AtomicInteger();
  private static CertificateAuthority ca;
  private static TollgateFixture tollgate;
  private UnhandledEvents unhandled;

  @BeforeAll
  static void start() throws Exception {
    ca = CertificateAuthority.create("Tollgate Connect Reset CA", KeyType.EC_P256);
    ca.writeCertificatePem(dir.resolve("ca.pem"));
    ca.issue(KeyType.EC_P256, "*.at-accept.test", "*.in-handshake.test").writePem(dir, "front");
    Resetter atAccept = resources.add(new Resetter(0));
    Resetter inHandshake = resources.add(new Resetter(5)); // the ClientHello's record header
    tollgate =
        resources.add(
            TollgateFixture.startIn(
                dir,
                String.format(
                    """
        access-log { path = "access.log" }
        timeouts { connect = 2s, handshake = 5s }
        certificates { trusted-roots = "ca.pem" }
        routes = [
          { hosts = ["*.at-accept.test"], mode = reencrypt, pool = accept,
            certificate { chain = "front.pem", key = "front.key" } }
          { hosts = ["*.in-handshake.test"], mode = reencrypt, pool = handshake,
            certificate { chain = "front.pem", key = "front.key" } }
        ]
        pools {
          accept { servers = ["127.0.0.1:%d"], connect-attempts = 1,
                   passive-ejection.failures = 0, tls { ca = "ca.pem" } }
          handshake { servers = ["127.0.0.1:%d"], connect-attempts = 1,
                      passive-ejection.failures = 0, tls { ca = "ca.pem" } }
        }
        """,
                    atAccept.port(), inHandshake.port())));
  }

  @BeforeEach
  void capture() {
    unhandled = UnhandledEvents.capture();
  }

  @AfterEach
  void stopCapturing() {
    unhandled.close();
  }

  @Test
  void backendThatResetsOnAcceptEndsTheConnectionWithAReason() throws Exception {
    expectHandledResets("at-accept");
  }

  @Test
  void backendThatResetsInTheMiddleOfTheHandshakeEndsTheConnectionWithAReason() throws Exception {
    expectHandledResets("in-handshake");
  }

  private void expectHandledResets(String domain) throws Exception {
    for (int i = 0; i < CONNECTIONS; i++) {
      String sni = "c" + ids.incrementAndGet() + "." + domain + ".test";
      Socket socket = new Socket();
      socket.connect(
          new InetSocketAddress(InetAddress.getLoopbackAddress(), tollgate.port()), 10_000);
      socket.setSoTimeout(10_000);
      try (ClosePeer client = ClosePeer.tlsClient(socket, ca.clientContext(), sni)) {
        assertThat(client.readToEnd().end())
            .as("the client is told with close_notify")
            .isEqualTo(End.CLEAN);
      }
      Map<String, Object> line = accessLine(sni);
      // A reset that comes before the connect completes fails the connect itself.
      assertThat(line.get("reason"))
          .as("%s", line)
          .isIn(
              domain.equals("at-accept")
                  ? List.of("backend_handshake_failed", "connect_failed")
                  : List.of("backend_handshake_failed"));
      assertThat((String) line.get("detail")).as("%s", line).startsWith("1 attempt(s), last");
    }
    assertThat(unhandled.all()).as("exceptions nobody handled").isEmpty();
  }

  private static Map<String, Object> accessLine(String sni) throws Exception {
    return AccessLogFile.lineFor(dir.resolve("access.log"), sni, Duration.ofSeconds(15));
  }

  /** Accepts, reads {@code bytesFirst} bytes, then resets (SO_LINGER 0). */
  private static final class Resetter implements AutoCloseable {
    private final ServerSocket server;

    Resetter(int bytesFirst) throws IOException {
      server = new ServerSocket(0, 64, InetAddress.getLoopbackAddress());
      Thread t =
          new Thread(
              () -> {
                while (!server.isClosed()) {
                  try (Socket s = server.accept()) {
                    s.setSoTimeout(5_000);
                    InputStream in = s.getInputStream();
                    for (int i = 0; i < bytesFirst && in.read() >= 0; i++) {
                      // the ClientHello's first bytes: the handshake has begun
                    }
                    s.setSoLinger(true, 0);
                  } catch (IOException e) {
                    // closed, or the connection went first; next
                  }
                }
              },
              "resetting-backend");
      t.setDaemon(true);
      t.start();
    }

    int port() {
      return server.getLocalPort();
    }

    @Override
    public void close() throws IOException {
      server.close();
    }
  }
}
