package io.tollgate.relay;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelConfig;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.util.UncheckedBooleanSupplier;

/**
 * Counts every byte one channel's transport takes from its socket, spliced or read. Netty's epoll
 * splice moves bytes without a channelRead, and its only per-read report of the count is the
 * receive allocator's {@code lastBytesRead}, so this allocator wraps the channel's own and sums
 * what it is told. Netty creates a channel's handle once, at its first read, so the counter must be
 * in place before that ({@link #install}, from the listener's initializer and the backend
 * bootstrap), and it is one per channel.
 */
public final class ReadCounter implements RecvByteBufAllocator {
  private final RecvByteBufAllocator base;
  private long total;

  private ReadCounter(RecvByteBufAllocator base) {
    this.base = base;
  }

  /** Puts a counter in front of {@code ch}'s receive allocator (before its first read). */
  public static void install(Channel ch) {
    ChannelConfig config = ch.config();
    config.setRecvByteBufAllocator(new ReadCounter(config.getRecvByteBufAllocator()));
  }

  /** {@code ch}'s counter, or null when none was installed. */
  static ReadCounter of(Channel ch) {
    return ch.config().getRecvByteBufAllocator() instanceof ReadCounter c ? c : null;
  }

  /** Bytes taken from the socket so far (event loop only). */
  long total() {
    return total;
  }

  @Override
  public Handle newHandle() {
    return new Counting((ExtendedHandle) base.newHandle());
  }

  private final class Counting implements ExtendedHandle {
    private final ExtendedHandle delegate;

    Counting(ExtendedHandle delegate) {
      this.delegate = delegate;
    }

    @Override
    public void lastBytesRead(int bytes) {
      if (bytes > 0) {
        total += bytes;
      }
      delegate.lastBytesRead(bytes);
    }

    @Override
    public ByteBuf allocate(ByteBufAllocator alloc) {
      return delegate.allocate(alloc);
    }

    @Override
    public int guess() {
      return delegate.guess();
    }

    @Override
    public void reset(ChannelConfig config) {
      delegate.reset(config);
    }

    @Override
    public void incMessagesRead(int numMessages) {
      delegate.incMessagesRead(numMessages);
    }

    @Override
    public int lastBytesRead() {
      return delegate.lastBytesRead();
    }

    @Override
    public void attemptedBytesRead(int bytes) {
      delegate.attemptedBytesRead(bytes);
    }

    @Override
    public int attemptedBytesRead() {
      return delegate.attemptedBytesRead();
    }

    @Override
    public boolean continueReading() {
      return delegate.continueReading();
    }

    @Override
    public boolean continueReading(UncheckedBooleanSupplier maybeMoreDataSupplier) {
      return delegate.continueReading(maybeMoreDataSupplier);
    }

    @Override
    public void readComplete() {
      delegate.readComplete();
    }
  }
}
