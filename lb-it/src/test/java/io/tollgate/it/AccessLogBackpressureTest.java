package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.tollgate.accesslog.AccessLog;
import io.tollgate.pki.CertificateAuthority;
import io.tollgate.pki.CertificateAuthority.KeyType;
import io.tollgate.testkit.TlsTestClient;
import io.tollgate.testkit.TlsTestServer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * A stuck access log output (a disk that stopped answering) never stalls connections: with the
 * writer blocked on a latch and a queue of 4 lines, 40 connections still complete through Tollgate,
 * the lines that do not fit are dropped and counted in {@code tollgate_access_log_dropped_total},
 * and the queued ones are written once the output moves again.
 */
@Timeout(120)
class AccessLogBackpressureTest {
  private static final int CONNECTIONS = 40;
  private static final int QUEUE = 4;

  @TempDir Path dir;
  @RegisterExtension final ClassResources resources = new ClassResources();

  @Test
  void aBlockedWriterDropsAndCountsLinesWhileConnectionsComplete() throws Exception {
    CertificateAuthority ca = CertificateAuthority.create("Backpressure CA", KeyType.EC_P256);
    TlsTestServer backend =
        resources.add(
            TlsTestServer.start(
                ca.issue(KeyType.EC_P256, "pass.test"), TlsTestServer.greet("pass")));
    BlockingAppender blocking = new BlockingAppender();
    ch.qos.logback.classic.Logger logger =
        ((LoggerContext) LoggerFactory.getILoggerFactory()).getLogger(AccessLog.LOGGER);
    String before = System.getProperty(AccessLog.QUEUE_PROPERTY);
    System.setProperty(AccessLog.QUEUE_PROPERTY, String.valueOf(QUEUE));
    TollgateFixture tollgate;
    try {
      tollgate =
          resources.add(
              TollgateFixture.startIn(
                  dir,
                  String.format(
                      """
          access-log { path = "access.log" }
          routes = [ { hosts = ["pass.test"], pool = pass } ]
          pools { pass { servers = ["127.0.0.1:%d"] } }
          """,
                      backend.port())));
    } finally {
      if (before == null) {
        System.clearProperty(AccessLog.QUEUE_PROPERTY);
      } else {
        System.setProperty(AccessLog.QUEUE_PROPERTY, before);
      }
    }
    blocking.start();
    logger.addAppender(blocking);
    try {
      for (int i = 0; i < CONNECTIONS; i++) {
        try (TlsTestClient.Connection c = TlsTestClient.connect(tollgate.port(), "pass.test", ca)) {
          c.socket().setSoTimeout(10_000);
          String greeting =
              new BufferedReader(
                      new InputStreamReader(c.socket().getInputStream(), StandardCharsets.UTF_8))
                  .readLine();
          assertThat(greeting).as("connection %d", i).isEqualTo("pass");
        }
      }
      // The writer holds one line, the queue QUEUE more; every other close is dropped.
      long expectedDrops = CONNECTIONS - 1 - QUEUE;
      TollgateFixture.await(
          () -> tollgate.metrics().accessLogDroppedCount() >= expectedDrops,
          Duration.ofSeconds(10));
      assertThat(tollgate.metrics().accessLogDroppedCount()).isEqualTo(expectedDrops);
      assertThat(blocking.entered.get()).isEqualTo(1);
      assertThat(
              PrometheusText.parse(tollgate.metrics().scrape())
                  .value("tollgate_access_log_dropped_total"))
          .hasValue((double) expectedDrops);
    } finally {
      blocking.release.countDown();
    }
    TollgateFixture.await(() -> blocking.entered.get() == 1 + QUEUE, Duration.ofSeconds(10));
    assertThat(blocking.entered.get()).isEqualTo(1 + QUEUE);
    logger.detachAppender(blocking);
    TollgateFixture.await(
        () -> lineCount(dir.resolve("access.log")) == 1 + QUEUE, Duration.ofSeconds(10));
    assertThat(lineCount(dir.resolve("access.log"))).isEqualTo(1 + QUEUE);
  }

  private static long lineCount(Path file) {
    try {
      return Files.exists(file) ? Files.readAllLines(file).size() : 0;
    } catch (java.io.IOException e) {
      return -1;
    }
  }

  /** An output whose every write waits until released: a disk that stopped answering. */
  private static final class BlockingAppender extends AppenderBase<ILoggingEvent> {
    final CountDownLatch release = new CountDownLatch(1);
    final AtomicInteger entered = new AtomicInteger();

    @Override
    protected void append(ILoggingEvent event) {
      entered.incrementAndGet();
      try {
        release.await(60, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
