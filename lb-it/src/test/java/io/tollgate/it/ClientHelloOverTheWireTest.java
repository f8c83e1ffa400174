package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tollgate.pki.CertificateAuthority;
import io.tollgate.pki.CertificateAuthority.KeyType;
import io.tollgate.testkit.CommandLineTools;
import io.tollgate.testkit.TlsTestServer;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** ClientHellos as real networks deliver them, and a real third-party client. */
@Timeout(60)
class ClientHelloOverTheWireTest {

  @Test
  void aLargeHelloSplitAcrossRecordsAndSegmentsIsRoutedAndReplayedUnchanged() throws Exception {
    // A >2 KB hello (like a browser's with post-quantum key shares), re-framed into 300-byte TLS
    // records and written 50 bytes at a time: Tollgate must reassemble it to read the SNI, and
    // the backend must receive exactly the bytes the client sent.
    byte[] wire = reframe(largeClientHello("big.test"), 300);
    assertThat(wire.length).isGreaterThan(2048);
    try (ServerSocket right = new ServerSocket(0, 8, InetAddress.getLoopbackAddress());
        ServerSocket wrong = new ServerSocket(0, 8, InetAddress.getLoopbackAddress());
        TollgateFixture tollgate =
            TollgateFixture.start(
                String.format(
                    """
            routes = [ { hosts = ["big.test"], mode = passthrough, pool = right } ]
            default-route { pool = wrong }
            pools {
              right { servers = ["127.0.0.1:%d"] }
              wrong { servers = ["127.0.0.1:%d"] }
            }
            """,
                    right.getLocalPort(), wrong.getLocalPort()))) {
      CompletableFuture<byte[]> received =
          CompletableFuture.supplyAsync(
              () -> {
                try (Socket s = right.accept()) {
                  s.setSoTimeout(10_000);
                  return s.getInputStream().readNBytes(wire.length);
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              });
      try (Socket client = new Socket(InetAddress.getLoopbackAddress(), tollgate.port())) {
        client.setTcpNoDelay(true);
        OutputStream out = client.getOutputStream();
        for (int i = 0; i < wire.length; i += 50) {
          out.write(wire, i, Math.min(50, wire.length - i));
          out.flush();
          Thread.sleep(2);
        }
        assertThat(received.get(10, TimeUnit.SECONDS)).isEqualTo(wire);
      }
    }
  }

  @Test
  void opensslSClientVerifiesTheBackendThroughTollgate(@TempDir Path dir) throws Exception {
    assumeTrue(CommandLineTools.which("openssl").isPresent(), "openssl is not installed");
    CertificateAuthority ca = CertificateAuthority.create("Tollgate IT CA", KeyType.EC_P256);
    Path caFile = ca.writeCertificatePem(dir.resolve("ca.pem"));
    try (TlsTestServer backend =
            TlsTestServer.start(
                ca.issue(KeyType.RSA_2048, "shop.test"), TlsTestServer.greet("shop"));
        TollgateFixture tollgate =
            TollgateFixture.start(
                String.format(
                    """
            routes = [ { hosts = ["shop.test"], mode = passthrough, pool = shop } ]
            pools { shop { servers = ["127.0.0.1:%d"] } }
            """,
                    backend.port()))) {
      Path empty = Files.writeString(dir.resolve("stdin"), "");
      ProcessBuilder pb =
          new ProcessBuilder(
                  "openssl",
                  "s_client",
                  "-connect",
                  "127.0.0.1:" + tollgate.port(),
                  "-servername",
                  "shop.test",
                  "-verify_hostname",
                  "shop.test",
                  "-CAfile",
                  caFile.toString(),
                  "-verify_return_error",
                  "-brief")
              .redirectInput(empty.toFile());
      List<String> cmd = new ArrayList<>(pb.command());
      CommandLineTools.ProcessResult r = CommandLineTools.run(Duration.ofSeconds(20), cmd);
      String all = r.stdout() + r.stderr();
      assertThat(all).contains("Verification: OK").contains("shop.test");
    }
  }

  /** A JDK ClientHello for {@code sni} offering many ALPN protocols, so it exceeds 2 KB. */
  private static byte[] largeClientHello(String sni) throws Exception {
    List<String> protocols = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      protocols.add("proto-" + i);
    }
    return JdkClientHello.forName(sni, protocols);
  }

  /** Splits the handshake payload of single-record {@code hello} into records of {@code size}. */
  private static byte[] reframe(byte[] hello, int size) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int payloadLength = ((hello[3] & 0xff) << 8) | (hello[4] & 0xff);
    assertThat(payloadLength).isEqualTo(hello.length - 5);
    for (int off = 5; off < hello.length; off += size) {
      int n = Math.min(size, hello.length - off);
      out.write(22);
      out.write(hello[1]);
      out.write(hello[2]);
      out.write(n >> 8);
      out.write(n & 0xff);
      out.write(hello, off, n);
    }
    return out.toByteArray();
  }
}
