package io.tollgate.tls;

import static io.tollgate.tls.TlsFixtures.config;
import static io.tollgate.tls.TlsFixtures.files;
import static io.tollgate.tls.TlsFixtures.offload;
import static io.tollgate.tls.TlsFixtures.trusting;
import static io.tollgate.tls.TlsFixtures.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.OpenSslSessionContext;
import io.netty.handler.ssl.OpenSslSessionStats;
import io.tollgate.config.ConfigError;
import io.tollgate.config.TlsConfig;
import io.tollgate.pki.CertificateAuthority.KeyType;
import io.tollgate.testkit.TlsTestClient;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Without a key file, the process's ticket keys rotate every 12 h; the previous key decrypts. */
class ProcessTicketKeysTest {
  @TempDir Path dir;

  /** A clock the test moves. */
  private static final class TestClock extends Clock {
    private Instant now = Instant.parse("2026-01-01T00:00:00Z");

    void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public java.time.ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }
  }

  @Test
  void keysRotateAfterThePeriodKeepingOnlyThePreviousKey() {
    TestClock clock = new TestClock();
    ProcessTicketKeys keys = new ProcessTicketKeys(clock, ProcessTicketKeys.ROTATION);
    TicketKeys first = keys.current();
    assertThat(first.size()).isEqualTo(1);
    clock.advance(ProcessTicketKeys.ROTATION.minusSeconds(1));
    assertThat(keys.current()).isSameAs(first);

    clock.advance(Duration.ofSeconds(1));
    TicketKeys second = keys.current();
    assertThat(second.size()).isEqualTo(2);
    assertThat(second.key(1)).as("previous key still decrypts").isEqualTo(first.key(0));
    assertThat(second.key(0)).isNotEqualTo(first.key(0));
    assertThat(keys.current()).isSameAs(second);

    clock.advance(ProcessTicketKeys.ROTATION);
    TicketKeys third = keys.current();
    assertThat(third.size()).isEqualTo(2);
    assertThat(third.key(1)).isEqualTo(second.key(0));
    assertThat(List.of(third.key(0), third.key(1)))
        .noneMatch(k -> java.util.Arrays.equals(k, first.key(0)));
  }

  @Test
  void aRotationReachesTheRunningContextsAndTicketsOfTheKeyBeforeTheLastStopResuming()
      throws Exception {
    assumeTrue(OpenSsl.isAvailable(), "BoringSSL not available");
    TestClock clock = new TestClock();
    ProcessTicketKeys keys = new ProcessTicketKeys(clock, ProcessTicketKeys.ROTATION);
    List<ConfigError> errors = new ArrayList<>();
    TlsMaterial material =
        Providers.with(
            Providers.OPENSSL,
            () ->
                TlsMaterial.build(
                    config(
                        trusting(dir),
                        TlsConfig.DEFAULTS,
                        List.of(
                            offload(
                                files(
                                    write(
                                        TlsFixtures.INTERMEDIATE.issue(
                                            KeyType.EC_P256, "shop.test"),
                                        dir,
                                        "shop")),
                                "shop.test"))),
                    errors,
                    new ArrayList<>(),
                    keys));
    assertThat(errors).isEmpty();
    RouteServerTls tls = (RouteServerTls) material.serverTls("shop.test");
    OpenSslSessionContext sessions =
        (OpenSslSessionContext) tls.sslContext("shop.test", true).sessionContext();
    assertThat(material.refreshTicketKeys()).as("nothing rotated yet").isFalse();

    SSLContext early = TlsTestClient.context(null, TlsFixtures.ROOT.trustManagers());
    SSLContext later = TlsTestClient.context(null, TlsFixtures.ROOT.trustManagers());
    try (ServerTlsHarness server = new ServerTlsHarness(tls)) {
      server.sni = "shop.test";
      visit(server, early);
      visit(server, later);

      clock.advance(ProcessTicketKeys.ROTATION);
      assertThat(material.refreshTicketKeys()).isTrue();
      assertThat(material.refreshTicketKeys()).isFalse();
      long resumedBefore = resumed(sessions.stats());
      visit(server, later);
      assertThat(resumed(sessions.stats()))
          .as("a ticket of the previous key resumes")
          .isEqualTo(resumedBefore + 1);

      clock.advance(ProcessTicketKeys.ROTATION);
      assertThat(material.refreshTicketKeys()).isTrue();
      resumedBefore = resumed(sessions.stats());
      visit(server, early);
      assertThat(resumed(sessions.stats()))
          .as("a ticket of the key two rotations ago does not")
          .isEqualTo(resumedBefore);
      // later's ticket was renewed under the key that is now the previous one: still good.
      visit(server, later);
      assertThat(resumed(sessions.stats())).isEqualTo(resumedBefore + 1);
    }
  }

  /** Resumed with the current key, or with a previous one (BoringSSL counts that as "renew"). */
  private static long resumed(OpenSslSessionStats stats) {
    return stats.ticketKeyResume() + stats.ticketKeyRenew();
  }

  private static void visit(ServerTlsHarness server, SSLContext client) throws IOException {
    try (SSLSocket socket =
        TlsFixtures.client(server.port())
            .sni("shop.test")
            .context(client)
            .protocols("TLSv1.3")
            .connect()) {
      assertThat(socket.getInputStream().read()).isEqualTo('h');
    }
  }
}
