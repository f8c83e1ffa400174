package io.tollgate.listener;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.embedded.EmbeddedChannel;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class OpenConnectionsTest {
  private final OpenConnections open = new OpenConnections();

  /** Woken by the last close itself: with a 60 s limit, a missed wake-up fails the timeout. */
  @Test
  @Timeout(10)
  void theDrainEndsWhenTheLastConnectionCloses() {
    EmbeddedChannel a = new EmbeddedChannel();
    EmbeddedChannel b = new EmbeddedChannel();
    open.add(a);
    open.add(b);
    a.close();
    CompletableFuture.runAsync(
        b::close, CompletableFuture.delayedExecutor(200, TimeUnit.MILLISECONDS));
    assertThat(open.awaitClosed(Duration.ofSeconds(60), new CompletableFuture<>())).isTrue();
    assertThat(open.size()).isZero();
  }

  @Test
  @Timeout(10)
  void aSecondSignalOrTheLimitEndsTheDrainWithConnectionsOpen() {
    EmbeddedChannel ch = new EmbeddedChannel();
    open.add(ch);
    CompletableFuture<Void> stop = new CompletableFuture<>();
    CompletableFuture.runAsync(
        () -> stop.complete(null), CompletableFuture.delayedExecutor(200, TimeUnit.MILLISECONDS));
    assertThat(open.awaitClosed(Duration.ofSeconds(60), stop)).isFalse();
    assertThat(open.awaitClosed(Duration.ofMillis(100), new CompletableFuture<>())).isFalse();
    assertThat(open.size()).isOne();
    ch.finishAndReleaseAll();
  }
}
