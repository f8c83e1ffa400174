package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.tollgate.connection.CloseReason;
import io.tollgate.pki.CertificateAuthority;
import io.tollgate.pki.CertificateAuthority.KeyType;
import io.tollgate.testkit.CommandLineTools;
import io.tollgate.testkit.CommandLineTools.ProcessResult;
import io.tollgate.testkit.TlsTestServer;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code io.handshake-threads}: a terminated connection's ClientHello step runs on a handshake
 * thread, and what can go wrong in that step ends the connection as it does on the loop: a
 * handshake BoringSSL refuses gets its alert and the reason {@code handshake_failed}; a client that
 * resets right behind its hello costs nothing more and leaks nothing (the leak detector is
 * paranoid); the next connection is served.
 */
@Timeout(120)
class OffLoopHandshakeTest {
  @TempDir static Path dir;
  @RegisterExtension static final ClassResources resources = new ClassResources();
  private static CertificateAuthority ca;
  private static Path caPem;
  private static TollgateFixture tollgate;

  @BeforeAll
  static void start() throws Exception {
    ca = CertificateAuthority.create("Tollgate Off-Loop Handshake CA", KeyType.EC_P256);
    caPem = ca.writeCertificatePem(dir.resolve("ca.pem"));
    ca.issue(KeyType.EC_P256, "a.test", "b.test", "reset.test", "nogroup.test")
        .writePem(dir, "front");
    TlsTestServer backend = resources.add(TlsTestServer.startPlain(TlsTestServer.greet("plain")));
    // Every step on the handshake thread, at nice 19 (it always gets some CPU on a busy test
    // box), never taken back by the loop.
    tollgate =
        resources.add(
            HandshakeThreadsUnderTest.start(
                60_000,
                0,
                () ->
                    TollgateFixture.startIn(
                        dir,
                        """
        access-log { path = "access.log" }
        io { worker-threads = 1, handshake-threads = 1, handshake-threads-when = always,
             handshake-priority = nice }
        routes = [
          { hosts = ["a.test", "b.test", "reset.test", "nogroup.test"], mode = offload, pool = p,
            certificate { chain = "front.pem", key = "front.key" } }
        ]
        pools { p { servers = ["127.0.0.1:%d"] } }
        """
                            .formatted(backend.port()))));
  }

  @Test
  void aHandshakeRunsItsClientHelloOnTheHandshakeThreadAndTheBackendAnswers() throws Exception {
    long before = tollgate.tollgate().handshakeThreadSteps();
    assertThat(greeting("a.test")).isEqualTo("plain");
    assertThat(greeting("b.test")).isEqualTo("plain");
    awaitStepsSince(before, 2);
  }

  @Test
  void aHandshakeBoringSslRefusesInItsFirstStepGetsItsAlertAndTheReason() throws Exception {
    var openssl = CommandLineTools.which("openssl");
    assumeThat(openssl).as("openssl is not installed").isPresent();
    // TLS 1.3 with a group Tollgate does not offer: the first step fails with an alert to send.
    double handshakeBefore = handshakeFailures("handshake");
    double closedBefore = handshakeFailures("closed");
    ProcessResult r =
        sClient(openssl.get().toString(), "nogroup.test", "-tls1_3", "-groups", "ffdhe2048");
    assertThat(r.timedOut()).isFalse();
    assertThat(r.exitCode()).as("%s", r).isNotZero();
    assertThat(r.stdout() + r.stderr()).as("%s", r).containsIgnoringCase("alert handshake failure");
    Map<String, Object> line =
        AccessLogFile.lineFor(dir.resolve("access.log"), "nogroup.test", Duration.ofSeconds(10));
    assertThat(line.get("reason")).isEqualTo(CloseReason.HANDSHAKE_FAILED.label());
    // Counted as the handshake failure it was, not as the close that followed it.
    assertThat(handshakeFailures("handshake") - handshakeBefore).isEqualTo(1.0);
    assertThat(handshakeFailures("closed") - closedBefore).isZero();
    assertThat(greeting("a.test")).as("the next connection").isEqualTo("plain");
  }

  @Test
  void aTls12ClientGetsTheFlightTheThreadMadeAndFinishesItsHandshakeOnTheLoop() throws Exception {
    // TLS 1.2's first flight (hello, certificate, signed key exchange, hello done) is taken out of
    // the engine on the thread and written around the SslHandler; the client's answer (key
    // exchange, Finished) then goes through the SslHandler as usual.
    long before = tollgate.tollgate().handshakeThreadSteps();
    assertThat(greeting("a.test", "TLSv1.2")).isEqualTo("plain");
    awaitStepsSince(before, 1);
  }

  @Test
  void aHelloRetryRequestFromTheThreadIsAnsweredAndTheSecondHelloIsServed() throws Exception {
    var openssl = CommandLineTools.which("openssl");
    assumeThat(openssl).as("openssl is not installed").isPresent();
    // A key share only for a group BoringSSL does not take (ffdhe2048), X25519 offered beside it:
    // the thread's step answers with a HelloRetryRequest, the client's second hello goes through
    // the SslHandler on the loop, and the handshake ends with X25519.
    long before = tollgate.tollgate().handshakeThreadSteps();
    ProcessResult r =
        sClient(
            openssl.get().toString(), "b.test", "-tls1_3", "-groups", "ffdhe2048:X25519", "-msg");
    String out = r.stdout() + r.stderr();
    assertThat(r.timedOut()).isFalse();
    assertThat(r.exitCode()).as("%s", r).isZero();
    assertThat(out.split(", ClientHello", -1)).as("two ClientHellos: %s", out).hasSize(3);
    assertThat(out).contains("Verification: OK").contains("X25519");
    awaitStepsSince(before, 1);
    assertThat(greeting("a.test")).as("the next connection").isEqualTo("plain");
  }

  @Test
  void aClientThatResetsRightBehindItsHelloEndsAsAResetAndTheNextOneIsServed() throws Exception {
    byte[] hello = JdkClientHello.forName("reset.test", List.of());
    for (int i = 0; i < 20; i++) {
      try (Socket s = new Socket(InetAddress.getLoopbackAddress(), tollgate.port())) {
        s.setSoLinger(true, 0);
        OutputStream out = s.getOutputStream();
        out.write(hello);
        out.flush();
      } // reset while the step may still be queued or running
    }
    Map<String, Object> line =
        AccessLogFile.lineFor(dir.resolve("access.log"), "reset.test", Duration.ofSeconds(10));
    assertThat(line.get("reason"))
        .isIn(CloseReason.CLIENT_RESET.label(), CloseReason.CLIENT_CLOSED.label());
    assertThat(greeting("a.test")).as("the next connection").isEqualTo("plain");
  }

  /**
   * {@code openssl s_client} to Tollgate for {@code name}, trusting the test CA, with {@code
   * extra}.
   */
  private static ProcessResult sClient(String openssl, String name, String... extra) {
    List<String> command = new java.util.ArrayList<>();
    command.addAll(
        List.of(
            openssl,
            "s_client",
            "-connect",
            "127.0.0.1:" + tollgate.port(),
            "-servername",
            name,
            "-CAfile",
            caPem.toString()));
    command.addAll(List.of(extra));
    return CommandLineTools.run(Duration.ofSeconds(20), command);
  }

  /**
   * Waits until the handshake thread counted {@code n} steps since {@code before}: it counts a step
   * after handing it back, so the client may be served before the count moves.
   */
  private static void awaitStepsSince(long before, int n) throws InterruptedException {
    TollgateFixture.await(
        () -> tollgate.tollgate().handshakeThreadSteps() - before >= n, Duration.ofSeconds(10));
  }

  private static double handshakeFailures(String reason) {
    return PrometheusText.parse(tollgate.metrics().scrape())
        .value("tollgate_tls_handshake_failures_total", "mode", "offload", "reason", reason)
        .orElse(0);
  }

  private static String greeting(String name) throws Exception {
    return greeting(name, "TLSv1.3");
  }

  private static String greeting(String name, String protocol) throws Exception {
    SSLContext tls = ca.clientContext();
    try (SSLSocket s =
        (SSLSocket) tls.getSocketFactory().createSocket("127.0.0.1", tollgate.port())) {
      var params = s.getSSLParameters();
      params.setServerNames(List.of(new javax.net.ssl.SNIHostName(name)));
      params.setProtocols(new String[] {protocol});
      s.setSSLParameters(params);
      s.setSoTimeout(10_000);
      s.startHandshake();
      InputStream in = s.getInputStream();
      byte[] buf = new byte[64];
      int n = in.read(buf);
      return new String(buf, 0, Math.max(n, 0), StandardCharsets.US_ASCII).trim();
    }
  }
}
