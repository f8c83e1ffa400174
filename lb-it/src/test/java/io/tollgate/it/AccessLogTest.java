package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tollgate.connection.CloseReason;
import io.tollgate.pki.CertificateAuthority;
import io.tollgate.pki.CertificateAuthority.KeyType;
import io.tollgate.testkit.FreePorts;
import io.tollgate.testkit.TlsTestClient;
import io.tollgate.testkit.TlsTestServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The access log file ({@code access-log.path}): one JSON line per connection with every field, for
 * each close reason the tests can provoke; and reopening the file on SIGUSR1 after rotation.
 */
@Timeout(120)
class AccessLogTest {
  static final List<String> FIELDS =
      List.of(
          "time",
          "id",
          "listener",
          "client",
          "client_port",
          "sni",
          "alpn_offered",
          "alpn_offered_omitted",
          "route",
          "mode",
          "backend",
          "tls_version",
          "tls_cipher",
          "alpn",
          "client_cert",
          "bytes_from_client",
          "bytes_from_backend",
          "hello_ms",
          "handshake_ms",
          "connect_ms",
          "duration_ms",
          "reason",
          "detail");

  @TempDir static Path dir;
  private static CertificateAuthority ca;
  @RegisterExtension static final ClassResources resources = new ClassResources();
  private static int closedPort;
  private static TollgateFixture tollgate;

  @BeforeAll
  static void start() throws Exception {
    ca = CertificateAuthority.create("Tollgate Access Log IT CA", KeyType.EC_P256);
    ca.writeCertificatePem(dir.resolve("ca.pem"));
    ca.issue(KeyType.EC_P256, "shop.test", "quit.test").writePem(dir, "shop");
    // Greets, then waits for the client to finish and closes only after the client's FIN came
    // through: the client's close_notify and FIN reach Tollgate together, and the backend must
    // not answer them with its own FIN before Tollgate has seen the client's (that race made the
    // reason flaky). TLS runs on an SSLEngine over the plain socket, so the FIN is visible.
    SSLContext passTls = ca.issue(KeyType.EC_P256, "pass.test").serverContext();
    TlsTestServer pass =
        resources.add(
            TlsTestServer.startPlain(
                socket -> {
                  socket.setSoTimeout(10_000);
                  ClosePeer tls = ClosePeer.tlsServer(socket, passTls);
                  tls.write("pass\n".getBytes(StandardCharsets.UTF_8));
                  byte[] buffer = new byte[1024];
                  while (tls.read(buffer) != -1) {
                    // until the client's close_notify
                  }
                  while (socket.getInputStream().read() != -1) {
                    // until the client's FIN, passed on by Tollgate
                  }
                }));
    TlsTestServer shop = resources.add(TlsTestServer.startPlain(TlsTestServer.greet("shop")));
    // Closes each connection at once: Tollgate sees the backend end first.
    TlsTestServer quitter = resources.add(TlsTestServer.startPlain(socket -> {}));
    closedPort = FreePorts.next();
    tollgate =
        resources.add(
            TollgateFixture.startIn(
                dir,
                String.format(
                    """
        access-log { path = "access.log" }
        timeouts { client-hello = 300ms, connect = 1s }
        certificates { trusted-roots = "ca.pem" }
        routes = [
          { hosts = ["pass.test"], pool = pass }
          { hosts = ["shop.test"], mode = offload, pool = shop, alpn = ["h2", "http/1.1"],
            certificate { chain = "shop.pem", key = "shop.key" } }
          { hosts = ["quit.test"], mode = offload, pool = quitter,
            certificate { chain = "shop.pem", key = "shop.key" } }
          { hosts = ["down.test"], pool = down }
        ]
        pools {
          pass { servers = ["127.0.0.1:%d"] }
          shop { servers = ["127.0.0.1:%d"] }
          quitter { servers = ["127.0.0.1:%d"] }
          down { servers = ["127.0.0.1:%d"], connect-attempts = 1 }
        }
        """,
                    pass.port(), shop.port(), quitter.port(), closedPort)));
  }

  @Test
  void passthroughLineHasRouteBackendBytesAndTimingsButNoTls() throws Exception {
    try (TlsTestClient.Connection c = TlsTestClient.connect(tollgate.port(), "pass.test", ca)) {
      assertThat(firstLine(c.socket())).isEqualTo("pass");
    }
    Map<String, Object> line = awaitLine(l -> "pass.test".equals(l.get("sni")));

    assertThat(line.keySet()).containsExactlyElementsOf(FIELDS);
    assertThat(line.get("reason")).isEqualTo("client_closed");
    assertThat(line.get("listener")).isEqualTo("main");
    assertThat(line.get("client")).isEqualTo("127.0.0.1");
    assertThat((Double) line.get("client_port")).isPositive();
    assertThat(line.get("route")).isEqualTo("pass.test");
    assertThat(line.get("mode")).isEqualTo("passthrough");
    assertThat((String) line.get("backend")).startsWith("127.0.0.1:");
    assertThat(line.get("tls_version")).isNull();
    assertThat(line.get("handshake_ms")).isNull();
    assertThat((Double) line.get("bytes_from_client")).isGreaterThan(100); // the hello at least
    assertThat((Double) line.get("bytes_from_backend")).isGreaterThan(100); // its TLS flight
    assertThat((Double) line.get("hello_ms")).isNotNegative();
    assertThat((Double) line.get("connect_ms")).isNotNegative();
    assertThat((Double) line.get("duration_ms"))
        .isGreaterThanOrEqualTo((Double) line.get("connect_ms"));
    assertThat(Instant.parse((String) line.get("time")))
        .isBetween(Instant.now().minusSeconds(60), Instant.now());
    assertThat((String) line.get("id")).matches("[0-9a-f]{16}");
  }

  @Test
  void offloadLineHasTlsVersionCipherAlpnAndHandshakeTime() throws Exception {
    TlsTestClient.Handshake r =
        TlsTestClient.to(tollgate.port())
            .trust(ca.trustManagers())
            .alpn("h2", "http/1.1")
            .sni("shop.test")
            .handshake();
    assertThat(r.success()).as("%s", r.failure()).isTrue();
    Map<String, Object> line =
        awaitLine(l -> "shop.test".equals(l.get("sni")) && l.get("tls_version") != null);

    assertThat(line.get("mode")).isEqualTo("offload");
    assertThat(line.get("tls_version")).isEqualTo("TLSv1.3");
    assertThat((String) line.get("tls_cipher")).startsWith("TLS_");
    assertThat(line.get("alpn")).isEqualTo("h2");
    assertThat(line.get("alpn_offered")).isEqualTo(List.of("h2", "http/1.1"));
    assertThat((Double) line.get("handshake_ms")).isNotNegative();
  }

  @Test
  void everyRefusalAndFailureIsLoggedWithItsReason() throws Exception {
    // no_route
    assertThat(
            TlsTestClient.to(tollgate.port())
                .trust(ca.trustManagers())
                .sni("nobody.test")
                .handshake()
                .success())
        .isFalse();
    // not_tls, bad_hello, hello_timeout
    sendAndExpectClose("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    sendAndExpectClose(new byte[] {0x16, 0x03, 0x01, 0x00, 0x04, 0x02, 0x00, 0x00, 0x00});
    sendAndExpectClose(new byte[] {0x16, 0x03});
    // connect_failed: the pool's only server refuses
    assertThatThrownBy(() -> TlsTestClient.connect(tollgate.port(), "down.test", ca))
        .isInstanceOf(RuntimeException.class);
    // handshake_failed: TLS 1.1 is refused on offload routes
    assertThat(
            TlsTestClient.to(tollgate.port())
                .trust(ca.trustManagers())
                .protocols("TLSv1.1")
                .ciphers("TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA")
                .sni("shop.test")
                .handshake()
                .success())
        .isFalse();
    // backend_closed: the backend ends the connection first
    try (TlsTestClient.Connection c = TlsTestClient.connect(tollgate.port(), "quit.test", ca)) {
      assertThat(c.socket().getInputStream().read()).isEqualTo(-1);
    }

    for (CloseReason reason :
        List.of(
            CloseReason.NO_ROUTE,
            CloseReason.NOT_TLS,
            CloseReason.BAD_HELLO,
            CloseReason.HELLO_TIMEOUT,
            CloseReason.CONNECT_FAILED,
            CloseReason.HANDSHAKE_FAILED,
            CloseReason.BACKEND_CLOSED)) {
      Map<String, Object> line = awaitLine(l -> reason.label().equals(l.get("reason")));
      assertThat(line.keySet()).as(reason.label()).containsExactlyElementsOf(FIELDS);
      if (reason != CloseReason.BACKEND_CLOSED) {
        assertThat(line.get("detail")).as(reason.label()).isNotNull();
      }
    }
    Map<String, Object> noRoute = awaitLine(l -> "no_route".equals(l.get("reason")));
    assertThat(noRoute.get("sni")).isEqualTo("nobody.test");
    assertThat(noRoute.get("route")).isNull();
    assertThat(noRoute.get("backend")).isNull();
    Map<String, Object> failed = awaitLine(l -> "connect_failed".equals(l.get("reason")));
    assertThat(failed.get("route")).isEqualTo("down.test");
    assertThat((String) failed.get("detail")).contains("127.0.0.1:" + closedPort);
    Map<String, Object> timeout = awaitLine(l -> "hello_timeout".equals(l.get("reason")));
    assertThat(timeout.get("sni")).isNull();
    assertThat(timeout.get("hello_ms")).isNull();
  }

  @Test
  void limitRefusalsAreLoggedToo() throws Exception {
    Path other = dir.resolve("limits");
    Files.createDirectories(other);
    try (TollgateFixture limited =
            TollgateFixture.startIn(
                other,
                """
        listeners = [ { name = main, address = "127.0.0.1:0", max-connections = 1 } ]
        access-log.path = "access.log"
        timeouts.client-hello = 30s
        routes = [ { hosts = ["x.test"], pool = p } ]
        pools.p.servers = ["127.0.0.1:9"]
        """);
        Socket holder = new Socket(InetAddress.getLoopbackAddress(), limited.port())) {
      TollgateFixture.await(
          () -> limited.tollgate().limits().openConnections() == 1, Duration.ofSeconds(10));
      try (Socket refused = new Socket(InetAddress.getLoopbackAddress(), limited.port())) {
        refused.setSoTimeout(10_000);
        assertThat(refused.getInputStream().read()).isEqualTo(-1);
      }
      Map<String, Object> line =
          awaitLine(other.resolve("access.log"), l -> "limit_listener".equals(l.get("reason")));
      assertThat(line.get("detail")).isEqualTo("the listener's max-connections reached");
      assertThat(line.get("hello_ms")).isNull();
    }
    // Only that Tollgate's lines went to its file, and none of them to ours.
    assertThat(lines(dir.resolve("access.log")))
        .noneMatch(l -> "limit_listener".equals(l.get("reason")));
  }

  @Test
  void sigusr1ReopensTheFileAfterRotation() throws Exception {
    try (TlsTestClient.Connection c = TlsTestClient.connect(tollgate.port(), "pass.test", ca)) {
      assertThat(firstLine(c.socket())).isEqualTo("pass");
    }
    awaitLine(l -> "pass.test".equals(l.get("sni")));
    Path rotated = dir.resolve("access.log.1");
    Files.move(dir.resolve("access.log"), rotated);
    Process kill =
        new ProcessBuilder("kill", "-USR1", Long.toString(ProcessHandle.current().pid()))
            .inheritIO()
            .start();
    assertThat(kill.waitFor()).isZero();
    TollgateFixture.await(() -> Files.exists(dir.resolve("access.log")), Duration.ofSeconds(10));

    try (TlsTestClient.Connection c = TlsTestClient.connect(tollgate.port(), "pass.test", ca)) {
      assertThat(firstLine(c.socket())).isEqualTo("pass");
    }
    awaitLine(l -> "pass.test".equals(l.get("sni")));
    assertThat(lines(rotated)).anyMatch(l -> "pass.test".equals(l.get("sni")));
  }

  private static Map<String, Object> awaitLine(Predicate<Map<String, Object>> which)
      throws Exception {
    return awaitLine(dir.resolve("access.log"), which);
  }

  private static Map<String, Object> awaitLine(Path file, Predicate<Map<String, Object>> which)
      throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (true) {
      for (Map<String, Object> line : lines(file)) {
        if (which.test(line)) {
          return line;
        }
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError(
            "no matching line in "
                + file
                + ":\n"
                + (Files.exists(file) ? Files.readString(file) : "(no file)"));
      }
      Thread.sleep(20);
    }
  }

  /** Every complete line of the file, parsed; each must be one JSON object. */
  private static List<Map<String, Object>> lines(Path file) throws IOException {
    return AccessLogFile.lines(file);
  }

  private static void sendAndExpectClose(byte[] bytes) throws Exception {
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), tollgate.port())) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write(bytes);
      out.flush();
      assertThat(s.getInputStream().read()).isEqualTo(-1);
    }
  }

  private static String firstLine(Socket socket) throws IOException {
    return new BufferedReader(
            new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8))
        .readLine();
  }
}
