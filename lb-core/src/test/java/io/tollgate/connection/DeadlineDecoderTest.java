package io.tollgate.connection;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class DeadlineDecoderTest {
  private final AtomicInteger expired = new AtomicInteger();

  /** Finishes its job when it reads a byte; buffers nothing. */
  private final class Timed extends DeadlineDecoder {
    Timed() {
      super(100);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
      in.skipBytes(in.readableBytes());
      finish();
    }

    @Override
    protected void deadlineExpired(ChannelHandlerContext ctx) {
      expired.incrementAndGet();
    }
  }

  @Test
  void expiresOnceAfterItsTime() throws Exception {
    Timed timed = new Timed();
    EmbeddedChannel ch = new EmbeddedChannel(timed);
    // A second arm (added, then active) does not start a second timer.
    timed.channelActive(ch.pipeline().context(timed));
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
  void finishedOrRemovedNeverExpires() {
    Timed finished = new Timed();
    Timed removed = new Timed();
    EmbeddedChannel ch = new EmbeddedChannel(finished, removed);
    ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {1}));
    assertThat(finished.finished()).isTrue();
    ch.pipeline().remove(removed);
    ch.advanceTimeBy(1000, TimeUnit.MILLISECONDS);
    ch.runPendingTasks();
    assertThat(expired).hasValue(0);
    ch.finishAndReleaseAll();
  }

  @Test
  void rejectsANonPositiveTime() {
    assertThatThrownBy(
            () ->
                new DeadlineDecoder(0) {
                  @Override
                  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {}

                  @Override
                  protected void deadlineExpired(ChannelHandlerContext ctx) {}
                })
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("must be positive");
  }
}
