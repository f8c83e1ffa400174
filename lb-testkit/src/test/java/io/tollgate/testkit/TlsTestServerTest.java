package io.tollgate.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tollgate.pki.CertificateAuthority;
import io.tollgate.pki.CertificateAuthority.KeyType;
import io.tollgate.pki.IssuedCertificate;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class TlsTestServerTest {
  private static final String NAME = "server.kit.test";
  private static CertificateAuthority ca;
  private static IssuedCertificate certificate;

  @BeforeAll
  static void certificates() {
    ca = CertificateAuthority.create("Test kit CA", KeyType.EC_P256);
    certificate = ca.issue(KeyType.EC_P256, NAME);
  }

  @Test
  void echoReturnsDataThenHalfClosesAfterClientEof() throws Exception {
    try (TlsTestServer server = TlsTestServer.start(certificate, TlsTestServer.echo());
        TlsTestClient.Connection connection = TlsTestClient.connect(server.port(), NAME, ca)) {
      OutputStream out = connection.socket().getOutputStream();
      InputStream in = connection.socket().getInputStream();
      out.write("ping".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      assertThat(in.readNBytes(4)).isEqualTo("ping".getBytes(StandardCharsets.US_ASCII));

      out.write("last words".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      connection.socket().shutdownOutput();
      // After our close_notify the server still delivers what it owes, then its own EOF.
      byte[] rest = TlsTestClient.readToEof(connection.socket());
      assertThat(new String(rest, StandardCharsets.US_ASCII)).isEqualTo("last words");
      assertThat(server.acceptedConnections()).isEqualTo(1);
      assertThat(server.serverNames()).containsExactly(NAME);
      assertThat(connection.protocol()).isEqualTo("TLSv1.3");
    }
  }

  @Test
  void echoHalfCloseWithMegabyteInFlight() throws Exception {
    int size = 1024 * 1024;
    try (TlsTestServer server = TlsTestServer.start(certificate, TlsTestServer.echo());
        TlsTestClient.Connection connection = TlsTestClient.connect(server.port(), NAME, ca)) {
      CompletableFuture<Void> sent =
          CompletableFuture.runAsync(
              () -> {
                try {
                  DataPattern.writeTo(connection.socket().getOutputStream(), 7, size);
                  connection.socket().shutdownOutput();
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                }
              });
      byte[] echoed = TlsTestClient.readToEof(connection.socket());
      sent.get(10, TimeUnit.SECONDS);
      assertThat(echoed).hasSize(size);
      byte[] expected = new byte[size];
      new DataPattern(7).nextBytes(expected, 0, size);
      assertThat(echoed).isEqualTo(expected);
      assertThat(server.failures()).isEmpty();
    }
  }

  /**
   * TLS 1.2 has no half-close in the protocol (a close_notify is answered by one), yet the JDK
   * keeps the server's write side open after it reads EOF, so echo still delivers its data.
   */
  @Test
  void echoHalfCloseOverTls12() throws Exception {
    try (TlsTestServer server = TlsTestServer.start(certificate, TlsTestServer.echo());
        TlsTestClient.Connection connection =
            TlsTestClient.connect(
                server.address(),
                NAME,
                NAME,
                ca.clientContext(),
                Duration.ofSeconds(10),
                List.of("TLSv1.2"))) {
      assertThat(connection.protocol()).isEqualTo("TLSv1.2");
      OutputStream out = connection.socket().getOutputStream();
      out.write("twelve".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      assertThat(connection.socket().getInputStream().readNBytes(6))
          .isEqualTo("twelve".getBytes(StandardCharsets.US_ASCII));
      connection.socket().shutdownOutput();
      assertThat(TlsTestClient.readToEof(connection.socket())).isEmpty();
    }
  }

  @Test
  void greetSendsNameThenEchoes() throws Exception {
    try (TlsTestServer server = TlsTestServer.start(certificate, TlsTestServer.greet("alpha"));
        TlsTestClient.Connection connection = TlsTestClient.connect(server.port(), NAME, ca)) {
      BufferedReader reader =
          new BufferedReader(
              new InputStreamReader(connection.socket().getInputStream(), StandardCharsets.UTF_8));
      assertThat(reader.readLine()).isEqualTo("alpha");
      connection.socket().getOutputStream().write("hi\n".getBytes(StandardCharsets.UTF_8));
      assertThat(reader.readLine()).isEqualTo("hi");
      connection.socket().shutdownOutput();
      assertThat(reader.read()).isEqualTo(-1);
    }
  }

  @Test
  void sha256ExchangeMovesEightMebibytesEachWay() throws Exception {
    long size = 8L * 1024 * 1024;
    TlsTestServer.Sha256Exchange exchange = TlsTestServer.sha256Exchange(size);
    assertThat(exchange.lastReceivedSha256()).isEmpty();
    try (TlsTestServer server = TlsTestServer.start(certificate, exchange);
        TlsTestClient.Connection connection = TlsTestClient.connect(server.port(), NAME, ca)) {
      TlsTestClient.ExchangeResult result = TlsTestClient.sha256Exchange(connection.socket(), size);

      assertThat(result.bytesReceived()).isEqualTo(size);
      assertThat(result.receivedSha256())
          .isEqualTo(exchange.expectedSentSha256())
          .isEqualTo(DataPattern.sha256Hex(DataPattern.SERVER_SEED, size));
      // The server recorded its hash before half-closing, i.e. before our EOF arrived.
      assertThat(exchange.lastReceivedSha256())
          .contains(DataPattern.sha256Hex(DataPattern.CLIENT_SEED, size));
      assertThat(exchange.received())
          .containsExactly(
              new TlsTestServer.Sha256Exchange.Received(
                  size, DataPattern.sha256Hex(DataPattern.CLIENT_SEED, size)));
    }
  }

  @Test
  void closeDropsLiveConnectionsAndRefusesNewOnes() throws Exception {
    TlsTestServer server = TlsTestServer.start(certificate, TlsTestServer.echo());
    int port = server.port();
    try (TlsTestClient.Connection connection = TlsTestClient.connect(port, NAME, ca)) {
      connection.socket().getOutputStream().write(1);
      connection.socket().getOutputStream().flush();
      assertThat(connection.socket().getInputStream().read()).isEqualTo(1);
      assertThat(server.liveConnections()).isEqualTo(1);

      server.close();
      server.close();
      int read;
      try {
        read = connection.socket().getInputStream().read();
      } catch (IOException expected) {
        read = -1;
      }
      assertThat(read).isEqualTo(-1);
    }
    assertThatThrownBy(() -> TlsTestClient.connect(port, NAME, ca))
        .isInstanceOf(UncheckedIOException.class);
    assertThat(server.liveConnections()).isZero();
    assertThat(server.failures()).isEmpty();
  }

  @Test
  void countsAcceptedConnectionsAndSniPerHandshake() throws Exception {
    IssuedCertificate wildcard = ca.issue(KeyType.RSA_2048, "*.wild.test");
    try (TlsTestServer server = TlsTestServer.start(wildcard, TlsTestServer.echo())) {
      for (String name : new String[] {"a.wild.test", "b.wild.test"}) {
        try (TlsTestClient.Connection connection = TlsTestClient.connect(server.port(), name, ca)) {
          connection.socket().shutdownOutput();
          TlsTestClient.readToEof(connection.socket());
        }
      }
      assertThat(server.acceptedConnections()).isEqualTo(2);
      assertThat(server.serverNames()).containsExactly("a.wild.test", "b.wild.test");
    }
  }

  @Test
  void bindsIpv6Loopback() throws Exception {
    InetAddress ipv6 = InetAddress.getByName("::1");
    assumeTrue(canBind(ipv6), "IPv6 loopback unavailable");
    IssuedCertificate cert = ca.issue(KeyType.EC_P256, NAME, "::1");
    try (TlsTestServer server =
            TlsTestServer.start(new InetSocketAddress(ipv6, 0), cert, TlsTestServer.greet("six"));
        TlsTestClient.Connection connection =
            TlsTestClient.connect(
                server.address(), NAME, NAME, ca.clientContext(), Duration.ofSeconds(10))) {
      assertThat(server.address().getAddress()).isEqualTo(ipv6);
      assertThat(connection.socket().getInputStream().readNBytes(4))
          .isEqualTo("six\n".getBytes(StandardCharsets.UTF_8));
    }
  }

  private static boolean canBind(InetAddress address) {
    try {
      new ServerSocket(0, 1, address).close();
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
