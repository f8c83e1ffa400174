package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.connection.CloseReason;
import io.tollgate.pki.CertificateAuthority;
import io.tollgate.pki.CertificateAuthority.KeyType;
import io.tollgate.testkit.DataPattern;
import io.tollgate.testkit.TlsTestClient;
import io.tollgate.testkit.TlsTestServer;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * 256 MiB each way through offload at once: a JDK TLS client on one side, a plain TCP backend on
 * the other, both sending {@link DataPattern} and checking the SHA-256 of what they received. Every
 * byte is decrypted and re-encrypted by Tollgate, so this covers the SslHandler path under
 * backpressure in both directions.
 */
class OffloadBulkTransferTest {
  private static final long MIB = 1024 * 1024;
  private static final long SIZE = 256 * MIB;

  @TempDir static Path dir;
  private static CertificateAuthority ca;

  @BeforeAll
  static void certificates() {
    ca = CertificateAuthority.create("Tollgate Bulk CA", KeyType.EC_P256);
    ca.writeCertificatePem(dir.resolve("ca.pem"));
    ca.issue(KeyType.EC_P256, "bulk.test").writePem(dir, "bulk");
  }

  @ParameterizedTest(name = "{0} over {1}")
  @CsvSource({"TLSv1.3, auto", "TLSv1.2, nio"})
  @Timeout(300)
  void transfers256MiBEachWayWithMatchingSha256(String protocol, String transport)
      throws Exception {
    TlsTestServer.Sha256Exchange exchange = TlsTestServer.sha256Exchange(SIZE);
    Path home = dir.resolve(protocol + "-" + transport);
    try (TlsTestServer backend = TlsTestServer.startPlain(exchange);
        TollgateFixture tollgate =
            TollgateFixture.startIn(
                java.nio.file.Files.createDirectories(home),
                String.format(
                    """
            io { transport = %s }
            certificates { trusted-roots = "../ca.pem" }
            routes = [ { hosts = ["bulk.test"], mode = offload, pool = p,
                         certificate { chain = "../bulk.pem", key = "../bulk.key" } } ]
            pools { p { servers = ["127.0.0.1:%d"] } }
            """,
                    transport, backend.port()));
        TlsTestClient.Connection c =
            TlsTestClient.connect(
                new InetSocketAddress("127.0.0.1", tollgate.port()),
                "bulk.test",
                "bulk.test",
                ca.clientContext(),
                Duration.ofSeconds(120),
                List.of(protocol))) {
      assertThat(c.protocol()).isEqualTo(protocol);
      TlsTestClient.ExchangeResult got = TlsTestClient.sha256Exchange(c.socket(), SIZE);
      TollgateFixture.await(
          () -> exchange.lastReceivedSha256().isPresent(), Duration.ofSeconds(30));
      assertThat(backend.failures()).as("backend failures").isEmpty();
      assertThat(got.bytesReceived()).isEqualTo(SIZE);
      assertThat(got.receivedSha256())
          .isEqualTo(DataPattern.sha256Hex(DataPattern.SERVER_SEED, SIZE));
      assertThat(exchange.received()).hasSize(1);
      assertThat(exchange.received().get(0).bytes()).isEqualTo(SIZE);
      assertThat(exchange.lastReceivedSha256())
          .contains(DataPattern.sha256Hex(DataPattern.CLIENT_SEED, SIZE));
      // The backend finished first: its FIN became the client's close_notify + EOF.
      c.socket().close();
      tollgate.awaitClosed(CloseReason.BACKEND_CLOSED, 1);
      // Offload counts plaintext toward the backend and TLS records from the client.
      assertThat(tollgate.metrics().bytesFromBackends()).isGreaterThanOrEqualTo(SIZE);
      assertThat(tollgate.metrics().bytesFromClients()).isGreaterThanOrEqualTo(SIZE);
    }
  }
}
