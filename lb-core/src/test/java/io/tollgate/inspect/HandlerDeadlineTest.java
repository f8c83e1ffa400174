package io.tollgate.inspect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class HandlerDeadlineTest {
  private final AtomicInteger expired = new AtomicInteger();

  /** Arms its deadline the way the inspector and the PROXY header reader do. */
  private final class Timed extends ChannelInboundHandlerAdapter {
    final HandlerDeadline deadline = new HandlerDeadline(100, ctx -> expired.incrementAndGet());

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      deadline.arm(ctx);
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      deadline.arm(ctx);
      ctx.fireChannelActive();
    }
  }

  @Test
  void expiresOnceAfterItsTime() {
    Timed timed = new Timed();
    EmbeddedChannel ch = new EmbeddedChannel(timed);
    timed.deadline.arm(ch.pipeline().context(timed)); // a second arm does not start a second timer
    ch.advanceTimeBy(99, TimeUnit.MILLISECONDS);
    ch.runPendingTasks();
    assertThat(expired).hasValue(0);
    ch.advanceTimeBy(1, TimeUnit.MILLISECONDS);
    ch.runPendingTasks();
    ch.advanceTimeBy(1000, TimeUnit.MILLISECONDS);
    ch.runPendingTasks();
    assertThat(expired).hasValue(1);
    ch.finishAndReleaseAll();
  }

  @Test
  void cancelledOrRemovedNeverExpires() {
    Timed cancelled = new Timed();
    Timed removed = new Timed();
    EmbeddedChannel ch = new EmbeddedChannel(cancelled, removed);
    cancelled.deadline.cancel();
    cancelled.deadline.arm(ch.pipeline().context(cancelled)); // no re-arming after cancel
    ch.pipeline().remove(removed);
    ch.advanceTimeBy(1000, TimeUnit.MILLISECONDS);
    ch.runPendingTasks();
    assertThat(expired).hasValue(0);
    ch.finishAndReleaseAll();
  }

  @Test
  void rejectsANonPositiveTime() {
    assertThatThrownBy(() -> new HandlerDeadline(0, ctx -> {}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("must be positive");
  }
}
