package io.tollgate.health;

import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.config.BackendTlsConfig;
import io.tollgate.config.HealthCheckConfig;
import io.tollgate.config.HealthCheckConfig.Initial;
import io.tollgate.config.HealthCheckConfig.Type;
import io.tollgate.config.HostPort;
import io.tollgate.config.PassiveEjectionConfig;
import io.tollgate.config.ServerTlsConfig;
import io.tollgate.demo.CertificateAuthority;
import io.tollgate.demo.CertificateAuthority.KeyType;
import io.tollgate.demo.IssuedCertificate;
import io.tollgate.testkit.TlsTestServer;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tls and https checks against real TLS servers over loopback, verified against the pool's CA
 * ({@code pools.NAME.tls.ca}, built here as config records): right CA up, wrong CA or an expired
 * certificate down with the reason.
 */
class TlsHealthCheckTest {
  private static final Duration INTERVAL = Duration.ofMillis(100);
  @TempDir static Path dir;
  private static CertificateAuthority ca;
  private static CertificateAuthority otherCa;
  private static Path caPem;
  private static Path otherCaPem;

  private final HealthChecker checker = new HealthChecker();
  private final List<TlsTestServer> servers = new ArrayList<>();

  @BeforeAll
  static void certificates() {
    ca = CertificateAuthority.create("Pool CA", KeyType.EC_P256);
    otherCa = CertificateAuthority.create("Someone else's CA", KeyType.EC_P256);
    caPem = ca.writeCertificatePem(dir.resolve("ca.pem"));
    otherCaPem = otherCa.writeCertificatePem(dir.resolve("other-ca.pem"));
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
      out.write(("HTTP/1.1 " + status + " X\r\nContent-Length: " + payload.length
          + "\r\nConnection: close\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8));
      out.flush();
    };
  }

  private ServerState check(TlsTestServer s, Type type, Optional<Path> caFile, Initial initial) {
    HealthCheckConfig c = HealthCheckConfig.defaults(type)
        .withTimings(INTERVAL, Duration.ofSeconds(2), 1, 1)
        .withStart(initial, 0, Optional.of("backend.test"));
    BackendTlsConfig tls = new BackendTlsConfig(caFile, Optional.empty(), true, Optional.empty(),
        ServerTlsConfig.DEFAULT_PROTOCOLS);
    ServerKey key = new ServerKey("p", s.address());
    return checker.apply(List.of(new HealthChecker.Target(key,
        new HostPort("127.0.0.1", s.port()), Optional.of(c), PassiveEjectionConfig.OFF,
        Optional.of(tls)))).get(key);
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
    ServerState state = check(s, Type.TLS, Optional.of(caPem), Initial.DOWN);
    await(state, true);
    assertThat(state.reason()).contains("tls handshake ok");
    assertThat(s.serverNames()).contains("backend.test");
  }

  @Test
  void tlsCheckWithTheWrongCaMarksDownWithTheReason() throws Exception {
    TlsTestServer s = server(ca.issue(KeyType.EC_P256, "backend.test"), drain());
    ServerState state = check(s, Type.TLS, Optional.of(otherCaPem), Initial.UP);
    await(state, false);
    assertThat(state.reason()).startsWith("tls: certificate not trusted by the pool's CA");
  }

  @Test
  void tlsCheckOfAnExpiredCertificateSaysSo() throws Exception {
    IssuedCertificate expired = ca.leaf("backend.test")
        .notBefore(Instant.now().minus(Duration.ofDays(30)))
        .notAfter(Instant.now().minus(Duration.ofDays(1)))
        .issue();
    TlsTestServer s = server(expired, drain());
    ServerState state = check(s, Type.TLS, Optional.of(caPem), Initial.UP);
    await(state, false);
    assertThat(state.reason()).startsWith("tls: certificate expired");
  }

  @Test
  void withoutACaOnlyTheHandshakeIsChecked() throws Exception {
    TlsTestServer s = server(otherCa.issue(KeyType.EC_P256, "elsewhere.test"), drain());
    await(check(s, Type.TLS, Optional.empty(), Initial.DOWN), true);
  }

  @Test
  void httpsCheckReadsTheStatusOverVerifiedTls() throws Exception {
    TlsTestServer ok = server(ca.issue(KeyType.EC_P256, "backend.test"), http(200, "ok"));
    TlsTestServer failing = server(ca.issue(KeyType.EC_P256, "backend.test"), http(503, "no"));
    ServerState up = check(ok, Type.HTTPS, Optional.of(caPem), Initial.DOWN);
    await(up, true);
    assertThat(up.reason()).contains("status 200");
    ServerState down = check(failing, Type.HTTPS, Optional.of(caPem), Initial.UP);
    await(down, false);
    assertThat(down.reason()).startsWith("status 503");
  }
}
