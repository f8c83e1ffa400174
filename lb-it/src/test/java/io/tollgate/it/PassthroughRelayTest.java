package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.tollgate.connection.CloseReason;
import io.tollgate.demo.CertificateAuthority;
import io.tollgate.demo.CertificateAuthority.KeyType;
import io.tollgate.demo.IssuedCertificate;
import io.tollgate.testkit.DataPattern;
import io.tollgate.testkit.TlsTestClient;
import io.tollgate.testkit.TlsTestServer;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The relay itself: bulk transfers, backpressure, half-close, resets, idle and fail-over. */
class PassthroughRelayTest {
  private static final long MIB = 1024 * 1024;
  private static CertificateAuthority ca;
  private static IssuedCertificate cert;

  @BeforeAll
  static void certificates() {
    ca = CertificateAuthority.create("Tollgate IT CA", KeyType.EC_P256);
    cert = ca.issue(KeyType.EC_P256, "relay.test");
  }

  private static TollgateFixture tollgateFor(String servers, String extra) throws Exception {
    return TollgateFixture.start(
        "routes = [ { hosts = [\"relay.test\"], mode = passthrough, pool = p } ]\n"
            + "pools { p { servers = [" + servers + "] } }\n" + extra);
  }

  private static String at(TlsTestServer s) {
    return "\"127.0.0.1:" + s.port() + "\"";
  }

  @Test
  @Timeout(300)
  void transfers256MiBEachWayWithMatchingSha256() throws Exception {
    transfer("");
  }

  @Test
  @Timeout(300)
  void transfers256MiBEachWayOverNio() throws Exception {
    transfer("io { transport = nio }");
  }

  private void transfer(String extra) throws Exception {
    long size = 256 * MIB;
    TlsTestServer.Sha256Exchange exchange = TlsTestServer.sha256Exchange(size);
    try (TlsTestServer backend = TlsTestServer.start(cert, exchange);
        TollgateFixture tollgate = tollgateFor(at(backend), extra);
        TlsTestClient.Connection c = TlsTestClient.connect(
            new java.net.InetSocketAddress("127.0.0.1", tollgate.port()), "relay.test",
            "relay.test", ca.clientContext(), Duration.ofSeconds(120))) {
      TlsTestClient.ExchangeResult got = TlsTestClient.sha256Exchange(c.socket(), size);
      TollgateFixture.await(() -> exchange.lastReceivedSha256().isPresent(), Duration.ofSeconds(30));
      assertThat(backend.failures()).as("backend failures").isEmpty();
      assertThat(got.bytesReceived()).isEqualTo(size);
      assertThat(got.receivedSha256()).isEqualTo(DataPattern.sha256Hex(DataPattern.SERVER_SEED, size));
      TollgateFixture.await(() -> exchange.lastReceivedSha256().isPresent(), Duration.ofSeconds(30));
      assertThat(exchange.lastReceivedSha256())
          .contains(DataPattern.sha256Hex(DataPattern.CLIENT_SEED, size));
      tollgate.awaitClosed(CloseReason.CLIENT_CLOSED, 1);
      // The TLS records add a little on top of the payload; both directions were relayed whole.
      assertThat(tollgate.metrics().bytesFromBackends()).isGreaterThan(size);
      assertThat(tollgate.metrics().bytesFromClients()).isGreaterThan(size);
    }
  }

  @Test
  @Timeout(120)
  void aStalledReaderStopsTheBackendInsteadOfGrowingTollgatesMemory() throws Exception {
    long size = 256 * MIB;
    AtomicLong written = new AtomicLong();
    TlsTestServer.ConnectionHandler pusher = socket -> {
      OutputStream out = socket.getOutputStream();
      DataPattern pattern = new DataPattern(DataPattern.SERVER_SEED);
      byte[] chunk = new byte[DataPattern.CHUNK];
      for (long left = size; left > 0; left -= chunk.length) {
        pattern.nextBytes(chunk, 0, chunk.length);
        out.write(chunk);
        written.addAndGet(chunk.length);
      }
      out.flush();
      socket.shutdownOutput();
    };
    try (TlsTestServer backend = TlsTestServer.start(cert, pusher);
        TollgateFixture tollgate = tollgateFor(at(backend), "timeouts { idle = 2m }");
        TlsTestClient.Connection c = TlsTestClient.connect(
            new java.net.InetSocketAddress("127.0.0.1", tollgate.port()), "relay.test",
            "relay.test", ca.clientContext(), Duration.ofSeconds(60))) {
      // Read nothing for a while: the backend must be held back by TCP flow control through
      // Tollgate, not by Tollgate buffering what the client does not take.
      long maxNettyMemory = 0;
      long lastWritten = -1;
      for (int i = 0; i < 40 && written.get() != lastWritten; i++) {
        lastWritten = written.get();
        Thread.sleep(100);
        maxNettyMemory = Math.max(maxNettyMemory, nettyMemory());
      }
      for (int i = 0; i < 10; i++) {
        Thread.sleep(50);
        maxNettyMemory = Math.max(maxNettyMemory, nettyMemory());
      }
      long stalledAt = written.get();
      // Kernel socket buffers on both loopback hops hold a few MiB; Tollgate adds at most its
      // write-buffer high water mark plus one read per direction.
      assertThat(stalledAt).as("bytes the backend got rid of while nobody read").isLessThan(48 * MIB);
      assertThat(maxNettyMemory).as("Netty buffer memory in use").isLessThan(32 * MIB);

      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      byte[] buf = new byte[64 * 1024];
      long total = 0;
      InputStream in = c.socket().getInputStream();
      for (int n; (n = in.read(buf)) != -1; ) {
        digest.update(buf, 0, n);
        total += n;
      }
      assertThat(total).isEqualTo(size);
      assertThat(HexFormat.of().formatHex(digest.digest()))
          .isEqualTo(DataPattern.sha256Hex(DataPattern.SERVER_SEED, size));
    }
  }

  private static long nettyMemory() {
    if (ByteBufAllocator.DEFAULT instanceof ByteBufAllocatorMetricProvider p) {
      return p.metric().usedDirectMemory() + p.metric().usedHeapMemory();
    }
    return 0;
  }

  @Test
  @Timeout(60)
  void halfCloseFromTheClientLetsTheBackendStillAnswer() throws Exception {
    // The backend answers only after it has read EOF: if Tollgate closed the whole connection
    // on the client's FIN, the answer would be lost.
    TlsTestServer.ConnectionHandler countThenAnswer = socket -> {
      long n = socket.getInputStream().readAllBytes().length;
      OutputStream out = socket.getOutputStream();
      out.write(("got " + n + " bytes\n").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      socket.shutdownOutput();
    };
    try (TlsTestServer backend = TlsTestServer.start(cert, countThenAnswer);
        TollgateFixture tollgate = tollgateFor(at(backend), "");
        TlsTestClient.Connection c = TlsTestClient.connect(tollgate.port(), "relay.test", ca)) {
      SSLSocket s = c.socket();
      s.getOutputStream().write(new byte[12345]);
      s.getOutputStream().flush();
      s.shutdownOutput();
      String answer = new String(TlsTestClient.readToEof(s), StandardCharsets.US_ASCII);
      assertThat(answer).isEqualTo("got 12345 bytes\n");
      tollgate.awaitClosed(CloseReason.CLIENT_CLOSED, 1);
    }
  }

  @Test
  @Timeout(60)
  void everyQueuedByteReachesALateReaderAfterBothSidesHaveFinished() throws Exception {
    // The client half-closes at once and reads only later; the backend answers with more than
    // the kernel's socket buffers hold, then closes. When Tollgate ends the pair, bytes still
    // queued toward the client must be delivered, not discarded by a reset.
    long size = 24 * MIB;
    TlsTestServer.ConnectionHandler answerAfterEof = socket -> {
      socket.getInputStream().readAllBytes();
      DataPattern.writeTo(socket.getOutputStream(), DataPattern.SERVER_SEED, size);
      socket.shutdownOutput();
    };
    try (TlsTestServer backend = TlsTestServer.start(cert, answerAfterEof);
        TollgateFixture tollgate = tollgateFor(at(backend), "");
        TlsTestClient.Connection c = TlsTestClient.connect(tollgate.port(), "relay.test", ca)) {
      c.socket().getOutputStream().write("request".getBytes(StandardCharsets.US_ASCII));
      c.socket().getOutputStream().flush();
      c.socket().shutdownOutput();
      TollgateFixture.await(() -> tollgate.metrics().activeCount() == 0, Duration.ofSeconds(20));
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      byte[] buf = new byte[64 * 1024];
      long total = 0;
      InputStream in = c.socket().getInputStream();
      for (int n; (n = in.read(buf)) != -1; ) {
        digest.update(buf, 0, n);
        total += n;
      }
      assertThat(total).isEqualTo(size);
      assertThat(HexFormat.of().formatHex(digest.digest()))
          .isEqualTo(DataPattern.sha256Hex(DataPattern.SERVER_SEED, size));
    }
  }

  @Test
  @Timeout(60)
  void aBackendResetResetsTheClient() throws Exception {
    TlsTestServer.ConnectionHandler resetAfterGreeting = socket -> {
      socket.getOutputStream().write("bye\n".getBytes(StandardCharsets.US_ASCII));
      socket.getOutputStream().flush();
      Thread.sleep(100);
      socket.setSoLinger(true, 0);
      socket.getInputStream(); // keep the handshake's session; then drop the TCP connection hard
      socket.close();
    };
    try (TlsTestServer backend = TlsTestServer.start(cert, resetAfterGreeting);
        TollgateFixture tollgate = tollgateFor(at(backend), "");
        TlsTestClient.Connection c = TlsTestClient.connect(tollgate.port(), "relay.test", ca)) {
      InputStream in = c.socket().getInputStream();
      byte[] buf = new byte[64];
      assertThat(in.read(buf)).isPositive();
      tollgate.awaitClosed(CloseReason.BACKEND_RESET, 1);
      // The client must not hang: its next read fails (reset) or ends.
      assertThatThrownBy(() -> {
        if (in.read(buf) == -1) {
          throw new java.io.EOFException("closed");
        }
      }).isInstanceOf(java.io.IOException.class);
    }
  }

  @Test
  @Timeout(60)
  void idleConnectionsAreClosedAfterTheIdleTimeout() throws Exception {
    try (TlsTestServer backend = TlsTestServer.start(cert, TlsTestServer.greet("idle"));
        TollgateFixture tollgate = tollgateFor(at(backend), "timeouts { idle = 300ms }");
        TlsTestClient.Connection c = TlsTestClient.connect(tollgate.port(), "relay.test", ca)) {
      InputStream in = c.socket().getInputStream();
      byte[] greeting = new byte[5];
      assertThat(in.readNBytes(greeting, 0, 5)).isEqualTo(5);
      // Now nothing moves; Tollgate closes both sides after 300 ms.
      assertThatThrownBy(() -> {
        if (in.read() == -1) {
          throw new java.io.EOFException("closed");
        }
      }).isInstanceOf(java.io.IOException.class);
      tollgate.awaitClosed(CloseReason.IDLE_TIMEOUT, 1);
    }
  }

  @Test
  @Timeout(60)
  void aRefusedConnectFailsOverToTheNextServer() throws Exception {
    int dead = deadPort();
    try (TlsTestServer live = TlsTestServer.start(cert, TlsTestServer.greet("live"));
        TollgateFixture tollgate = tollgateFor("\"127.0.0.1:" + dead + "\", " + at(live), "")) {
      for (int i = 0; i < 4; i++) {
        try (TlsTestClient.Connection c = TlsTestClient.connect(tollgate.port(), "relay.test", ca)) {
          byte[] greeting = c.socket().getInputStream().readNBytes(4);
          assertThat(new String(greeting, StandardCharsets.US_ASCII)).isEqualTo("live");
        }
      }
      assertThat(live.acceptedConnections()).isEqualTo(4);
      assertThat(tollgate.metrics().closedCount(CloseReason.CONNECT_FAILED)).isZero();
    }
  }

  @Test
  @Timeout(60)
  void whenEveryServerRefusesTheClientGetsAnAlertAndTheCloseIsCounted() throws Exception {
    try (TollgateFixture tollgate =
        tollgateFor("\"127.0.0.1:" + deadPort() + "\", \"127.0.0.1:" + deadPort() + "\"", "")) {
      assertThatThrownBy(() -> TlsTestClient.connect(tollgate.port(), "relay.test", ca))
          .isInstanceOf(UncheckedIOException.class)
          .hasMessageContaining("internal_error");
      tollgate.awaitClosed(CloseReason.CONNECT_FAILED, 1);
    }
  }

  /** A loopback port with nothing listening: bound, read back, released. */
  private static int deadPort() throws Exception {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
