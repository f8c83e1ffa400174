package io.tollgate.connection;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * {@link EmptyWrites}: a write of no bytes with nothing queued ahead of it succeeds without
 * reaching the transport; behind queued bytes it goes down in order, a barrier completed only once
 * they are written.
 */
class EmptyWritesTest {
  @Test
  void anEmptyWriteWithNothingQueuedSucceedsWithoutReachingTheSocket() {
    EmbeddedChannel ch = new EmbeddedChannel(EmptyWrites.INSTANCE);
    ByteBuf empty = Unpooled.buffer(0);
    ChannelFuture f = ch.writeAndFlush(empty);

    assertThat(f.isSuccess()).isTrue();
    assertThat(empty.refCnt()).isZero();
    assertThat((Object) ch.readOutbound()).isNull();
    ch.finishAndReleaseAll();
  }

  @Test
  void anEmptyWriteBehindQueuedBytesGoesDownInOrder() {
    EmbeddedChannel ch = new EmbeddedChannel(EmptyWrites.INSTANCE);
    ChannelFuture data = ch.write(Unpooled.copiedBuffer("bytes", StandardCharsets.US_ASCII));
    ChannelFuture barrier = ch.write(Unpooled.EMPTY_BUFFER);

    assertThat(barrier.isDone()).as("not before the bytes ahead of it").isFalse();
    ch.flush();
    assertThat(data.isSuccess()).isTrue();
    assertThat(barrier.isSuccess()).isTrue();
    ByteBuf first = ch.readOutbound();
    ByteBuf second = ch.readOutbound();
    assertThat(first.toString(StandardCharsets.US_ASCII)).isEqualTo("bytes");
    assertThat(second.readableBytes()).isZero();
    first.release();
    second.release();
    ch.finishAndReleaseAll();
  }

  @Test
  void bytesAreNeverHeldBack() {
    EmbeddedChannel ch = new EmbeddedChannel(EmptyWrites.INSTANCE);
    ch.writeAndFlush(Unpooled.copiedBuffer("x", StandardCharsets.US_ASCII));
    ByteBuf out = ch.readOutbound();
    assertThat(out.readableBytes()).isEqualTo(1);
    out.release();
    ch.finishAndReleaseAll();
  }
}
