package io.tollgate.health;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.tollgate.config.HealthCheckConfig;
import io.tollgate.config.HealthCheckConfig.Type;
import java.net.ConnectException;
import java.security.cert.CertificateExpiredException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;

class ProbeTest {
  @Test
  void findsTheExpectedBodyBeyondTheFirstBufferButNotBeyondTheLimit() throws Exception {
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    try (FakeBackend backend = FakeBackend.start()) {
      HealthCheckConfig defaults = HealthCheckConfig.defaults(Type.HTTP);
      // The body matters here, not the speed: 10 s rather than the default 1 s on a loaded machine.
      HealthCheckConfig check =
          defaults
              .withTimings(
                  defaults.interval(), Duration.ofSeconds(10), defaults.rise(), defaults.fall())
              .withHttp("/", 200, 299, Optional.of("MARKER"));
      ServerProbe probe = new ServerProbe(check, backend.address(), null, null, null, "localhost");

      backend.body = "x".repeat(3 * HttpCheck.INITIAL_RESPONSE_BYTES) + "MARKER";
      Probe.Result found = probe.run(group.next()).get(10, TimeUnit.SECONDS);
      assertThat(found.ok()).as(found.detail()).isTrue();

      backend.body = "x".repeat(HttpCheck.MAX_RESPONSE_BYTES) + "MARKER";
      Probe.Result tooFar = probe.run(group.next()).get(10, TimeUnit.SECONDS);
      assertThat(tooFar.ok()).isFalse();
      assertThat(tooFar.detail()).contains("does not contain \"MARKER\"");
    } finally {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
  }

  @Test
  void parsesStatusLines() {
    assertThat(HttpCheck.parseStatus("HTTP/1.1 200 OK")).isEqualTo(200);
    assertThat(HttpCheck.parseStatus("HTTP/1.0 503 Service Unavailable")).isEqualTo(503);
    assertThat(HttpCheck.parseStatus("HTTP/1.1 204")).isEqualTo(204);
    assertThat(HttpCheck.parseStatus("SSH-2.0-OpenSSH")).isEqualTo(-1);
    assertThat(HttpCheck.parseStatus("HTTP/1.1 2000 OK")).isEqualTo(-1);
  }

  @Test
  void describesFailuresTheWayAnOperatorReadsThem() {
    assertThat(
            ProbeFailures.connect(
                new ConnectException("Connection refused: /127.0.0.1:9"), Duration.ofSeconds(1)))
        .isEqualTo("connect refused");
    assertThat(
            ProbeFailures.connect(
                new io.netty.channel.ConnectTimeoutException("x"), Duration.ofSeconds(1)))
        .isEqualTo("timeout after 1s (connect)");
    SSLHandshakeException expired = new SSLHandshakeException("bad cert");
    expired.initCause(new CertificateExpiredException("NotAfter: ..."));
    assertThat(ProbeFailures.tls(expired)).isEqualTo("tls: certificate expired");
    assertThat(
            ProbeFailures.tls(
                new SSLHandshakeException(
                    "PKIX path building failed: unable to find valid certification path")))
        .startsWith("tls: certificate not trusted: verification against the pool's tls.ca");
    assertThat(ProbeFailures.human(Duration.ofMillis(1500))).isEqualTo("1500ms");
  }

  @Test
  void limiterRunsAtMostMaxAndHandsSlotsOnInOrder() {
    ProbeLimiter limiter = new ProbeLimiter(2);
    List<Integer> started = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      int n = i;
      limiter.submit(() -> started.add(n));
    }
    assertThat(started).containsExactly(0, 1);
    limiter.done();
    assertThat(started).containsExactly(0, 1, 2);
    limiter.done();
    limiter.done();
    assertThat(started).containsExactly(0, 1, 2, 3, 4);
    assertThat(limiter.running()).isEqualTo(2);
    limiter.done();
    limiter.done();
    assertThat(limiter.running()).isZero();
  }
}
