package io.tollgate.limits;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.embedded.EmbeddedChannel;
import io.tollgate.metrics.Metrics;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Accept failures pause accepting (autoRead off) for 100 ms, doubling up to 1 s while failures
 * continue, and reset once an accept succeeds. Time is Netty's embedded clock, not the wall's.
 */
class AcceptBackoffTest {
  private static final IOException EMFILE = new IOException("Too many open files");

  @Test
  void pausesDoubleFrom100msUpToOneSecond() {
    assertThat(AcceptBackoff.pauseMillis(1)).isEqualTo(100);
    assertThat(AcceptBackoff.pauseMillis(2)).isEqualTo(200);
    assertThat(AcceptBackoff.pauseMillis(3)).isEqualTo(400);
    assertThat(AcceptBackoff.pauseMillis(4)).isEqualTo(800);
    assertThat(AcceptBackoff.pauseMillis(5)).isEqualTo(1000);
    assertThat(AcceptBackoff.pauseMillis(1_000_000)).isEqualTo(1000);
  }

  @Test
  void failedAcceptStopsReadingUntilThePauseEndsAndTheErrorGoesNoFurther() {
    Metrics metrics = new Metrics();
    AcceptBackoff backoff = new AcceptBackoff("main", metrics);
    EmbeddedChannel server = new EmbeddedChannel();
    server.freezeTime();
    server.pipeline().addLast(backoff);

    server.pipeline().fireExceptionCaught(EMFILE);
    server.checkException(); // not passed on to the tail (Netty's own 1 s pause is replaced)
    assertThat(server.config().isAutoRead()).isFalse();
    assertThat(backoff.paused()).isTrue();

    server.advanceTimeBy(99, TimeUnit.MILLISECONDS);
    server.runScheduledPendingTasks();
    assertThat(server.config().isAutoRead()).isFalse();
    server.advanceTimeBy(1, TimeUnit.MILLISECONDS);
    server.runScheduledPendingTasks();
    assertThat(server.config().isAutoRead()).isTrue();

    // Still failing: the next pause is twice as long.
    server.pipeline().fireExceptionCaught(EMFILE);
    server.advanceTimeBy(199, TimeUnit.MILLISECONDS);
    server.runScheduledPendingTasks();
    assertThat(server.config().isAutoRead()).isFalse();
    server.advanceTimeBy(1, TimeUnit.MILLISECONDS);
    server.runScheduledPendingTasks();
    assertThat(server.config().isAutoRead()).isTrue();
    assertThat(metrics.scrape()).contains("tollgate_accept_errors_total{listener=\"main\"} 2.0");
    server.finishAndReleaseAll();
  }

  @Test
  void aSuccessfulAcceptEndsTheEpisode() {
    AcceptBackoff backoff = new AcceptBackoff("main", new Metrics());
    EmbeddedChannel server = new EmbeddedChannel();
    server.freezeTime();
    server.pipeline().addLast(backoff);
    server.pipeline().fireExceptionCaught(EMFILE);
    server.advanceTimeBy(100, TimeUnit.MILLISECONDS);
    server.runScheduledPendingTasks();
    server.pipeline().fireExceptionCaught(EMFILE);
    server.advanceTimeBy(200, TimeUnit.MILLISECONDS);
    server.runScheduledPendingTasks();
    assertThat(backoff.nextPauseMillis()).isEqualTo(400);

    Object child = new Object(); // stands for the accepted child channel
    server.writeInbound(child);
    assertThat((Object) server.readInbound()).isSameAs(child); // passed on to the acceptor
    assertThat(backoff.nextPauseMillis()).isEqualTo(100);
    server.finishAndReleaseAll();
  }

  @Test
  void failuresWhilePausedDoNotScheduleAnotherResume() {
    AcceptBackoff backoff = new AcceptBackoff("main", new Metrics());
    EmbeddedChannel server = new EmbeddedChannel();
    server.freezeTime();
    server.pipeline().addLast(backoff);
    server.pipeline().fireExceptionCaught(EMFILE);
    server.pipeline().fireExceptionCaught(EMFILE);
    server.advanceTimeBy(100, TimeUnit.MILLISECONDS);
    server.runScheduledPendingTasks();
    assertThat(server.config().isAutoRead()).isTrue();
    assertThat(backoff.paused()).isFalse();
    server.finishAndReleaseAll();
  }
}
