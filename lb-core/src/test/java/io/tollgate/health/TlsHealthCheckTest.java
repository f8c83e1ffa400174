package io.tollgate.health;

import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.config.ConfigLoader;
import io.tollgate.pki.CertificateAuthority;
import io.tollgate.pki.CertificateAuthority.KeyType;
import io.tollgate.pki.IssuedCertificate;
import io.tollgate.snapshot.Snapshot;
import io.tollgate.testkit.TlsTestServer;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tls and https checks against real TLS servers over loopback, configured as an operator would
 * ({@code pools.NAME.tls}, {@code health-check}) and built as {@code run} builds them: they trust
 * what the data path trusts (the pool's {@code tls.ca}, else the JDK's trust store) and verify the
 * name, unless {@code verify = false} on the check or the pool.
 */
class TlsHealthCheckTest {
  @TempDir static Path dir;
  private static CertificateAuthority ca;
  private static CertificateAuthority otherCa;

  private final HealthChecker checker = new HealthChecker();
  private final List<TlsTestServer> servers = new ArrayList<>();

  @BeforeAll
  static void certificates() {
    ca = CertificateAuthority.create("Pool CA", KeyType.EC_P256);
    otherCa = CertificateAuthority.create("Someone else's CA", KeyType.EC_P256);
    ca.writeCertificatePem(dir.resolve("ca.pem"));
    otherCa.writeCertificatePem(dir.resolve("other-ca.pem"));
  }

  @AfterEach
  void tearDown() {
    checker.close();
    servers.forEach(TlsTestServer::close);
  }

  private TlsTestServer server(IssuedCertificate cert, TlsTestServer.ConnectionHandler h) {
    TlsTestServer s = TlsTestServer.start(cert, h);
    servers.add(s);
    return s;
  }

  /** Reads until the probe closes: a TLS check sends nothing after the handshake. */
  private static TlsTestServer.ConnectionHandler drain() {
    return socket -> socket.getInputStream().readAllBytes();
  }

  private static TlsTestServer.ConnectionHandler http(int status, String body) {
    return socket -> {
      var in = socket.getInputStream();
      int matched = 0;
      int b;
      while (matched < 4 && (b = in.read()) >= 0) {
        matched = b == "\r\n\r\n".charAt(matched) ? matched + 1 : (b == '\r' ? 1 : 0);
      }
      OutputStream out = socket.getOutputStream();
      byte[] payload = body.getBytes(StandardCharsets.UTF_8);
      out.write(
          ("HTTP/1.1 "
                  + status
                  + " X\r\nContent-Length: "
                  + payload.length
                  + "\r\nConnection: close\r\n\r\n"
                  + body)
              .getBytes(StandardCharsets.UTF_8));
      out.flush();
    };
  }

  /**
   * Builds pool {@code p} with the server and the given {@code tls} block and check options as
   * {@code run} does, and returns the server's state.
   *
   * @param tls the pool's tls block content, or null for none
   * @param checkOptions extra health-check keys, e.g. {@code verify = false}
   */
  private Snapshot lastBuilt;

  private ServerState check(
      TlsTestServer s, String type, String tls, String checkOptions, String initial)
      throws Exception {
    Path file =
        Files.writeString(
            dir.resolve("tollgate.conf"),
            """
        tollgate {
          listeners = [ { name = main, address = "127.0.0.1:0" } ]
          routes = [ { hosts = ["x.test"], pool = p } ]
          pools.p {
            servers = ["127.0.0.1:%d"]
            %s
            health-check { type = %s, interval = 100ms, timeout = 2s, rise = 1, fall = 1,
                           jitter = 0, initial = %s, %s }
          }
        }
        """
                .formatted(
                    s.port(),
                    tls == null ? "" : "tls { " + tls + " }",
                    type,
                    initial,
                    checkOptions));
    Snapshot snapshot = Snapshot.build(ConfigLoader.load(file), checker);
    snapshot.commitHealth();
    lastBuilt = snapshot;
    return snapshot.pools().get("p").servers().get(0).state();
  }

  private static void await(ServerState s, boolean up) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (s.isUp() != up && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(s.isUp()).as("%s: %s", s, s.reason()).isEqualTo(up);
  }

  @Test
  void tlsCheckVerifiedAgainstThePoolCaIsUp() throws Exception {
    TlsTestServer s = server(ca.issue(KeyType.EC_P256, "backend.test"), drain());
    ServerState state = check(s, "tls", "ca = \"ca.pem\"", "server-name = backend.test", "down");
    await(state, true);
    assertThat(state.reason()).contains("tls handshake ok");
    assertThat(s.awaitServerName("backend.test")).contains("backend.test");
  }

  @Test
  void aServerSignedByAnUntrustedCaIsDownSayingVerificationFailed() throws Exception {
    TlsTestServer s = server(otherCa.issue(KeyType.EC_P256, "backend.test"), http(200, "ok"));
    ServerState state = check(s, "https", "ca = \"ca.pem\"", "server-name = backend.test", "up");
    await(state, false);
    assertThat(state.reason())
        .startsWith("tls: certificate not trusted: verification against" + " the pool's tls.ca");
  }

  @Test
  void withoutACaTheJdkTrustStoreDecidesAsOnTheDataPath() throws Exception {
    // Until issue 9 a check without tls.ca accepted any certificate; a private CA is not in the
    // JDK's store, so the server is down until the pool names its CA or says verify = false.
    TlsTestServer s = server(ca.issue(KeyType.EC_P256, "backend.test"), http(200, "ok"));
    ServerState state = check(s, "https", null, "server-name = backend.test", "up");
    await(state, false);
    assertThat(state.reason()).startsWith("tls: certificate not trusted");
  }

  @Test
  void withTheRightCaTheSameServerIsUp() throws Exception {
    TlsTestServer s = server(ca.issue(KeyType.EC_P256, "backend.test"), http(200, "ok"));
    ServerState state = check(s, "https", "ca = \"ca.pem\"", "server-name = backend.test", "down");
    await(state, true);
    assertThat(state.reason()).contains("status 200");
  }

  @Test
  void verifyFalseOnTheCheckOrThePoolChecksOnlyTheHandshake() throws Exception {
    TlsTestServer s = server(otherCa.issue(KeyType.EC_P256, "elsewhere.test"), http(200, "ok"));
    await(check(s, "https", "ca = \"ca.pem\"", "verify = false", "down"), true);
    checker.apply(List.of());
    await(check(s, "https", "verify = false", "", "down"), true);
  }

  @Test
  void theNameIsVerifiedLikeTheDataPath() throws Exception {
    TlsTestServer s = server(ca.issue(KeyType.EC_P256, "backend.test"), drain());
    // The pool's server-name is the check's default, and it must match.
    ServerState state = check(s, "tls", "ca = \"ca.pem\", server-name = other.test", "", "up");
    await(state, false);
    assertThat(state.reason()).startsWith("tls: certificate does not match the server name");
  }

  @Test
  void aServerGivenByIpWithoutANameMustHaveItsIpInTheCertificate() throws Exception {
    TlsTestServer named = server(ca.issue(KeyType.EC_P256, "backend.test"), drain());
    ServerState state = check(named, "tls", "ca = \"ca.pem\"", "", "up");
    assertThat(lastBuilt.warnings())
        .anySatisfy(
            w -> {
              assertThat(w.path()).isEqualTo("tollgate.pools.p.health-check");
              assertThat(w.message()).contains("set health-check.server-name");
            });
    await(state, false);
    checker.apply(List.of());
    TlsTestServer byIp = server(ca.issue(KeyType.EC_P256, "127.0.0.1"), drain());
    await(check(byIp, "tls", "ca = \"ca.pem\"", "", "down"), true);
  }

  @Test
  void tlsCheckOfAnExpiredCertificateSaysSo() throws Exception {
    IssuedCertificate expired =
        ca.leaf("backend.test")
            .notBefore(Instant.now().minus(Duration.ofDays(30)))
            .notAfter(Instant.now().minus(Duration.ofDays(1)))
            .issue();
    TlsTestServer s = server(expired, drain());
    ServerState state = check(s, "tls", "ca = \"ca.pem\"", "server-name = backend.test", "up");
    await(state, false);
    assertThat(state.reason()).startsWith("tls: certificate expired");
  }

  @Test
  void httpsCheckReadsTheStatusOverVerifiedTls() throws Exception {
    TlsTestServer failing = server(ca.issue(KeyType.EC_P256, "backend.test"), http(503, "no"));
    ServerState down =
        check(failing, "https", "ca = \"ca.pem\"", "server-name = backend.test", "up");
    await(down, false);
    assertThat(down.reason()).startsWith("status 503");
  }
}
