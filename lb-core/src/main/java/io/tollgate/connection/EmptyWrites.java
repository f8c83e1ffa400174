package io.tollgate.connection;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.channel.uring.IoUringSocketChannel;

/**
 * On io_uring, a write of no bytes with nothing queued ahead of it succeeds at once, without
 * reaching the kernel: what epoll's channels do, and what the relay and Netty's SslHandler count on
 * when they write an empty buffer (a flush barrier before a FIN or a close; SslHandler's flush with
 * nothing to encrypt). Netty's io_uring channel submits even an empty buffer as a send, and once
 * the peer's kernel has reset the connection that send fails: a client that ended cleanly
 * (close_notify and FIN) was then logged {@code client_reset}, and the relay reset the other side
 * instead of passing a FIN on. With bytes queued the write goes down in order, as a barrier must.
 *
 * <p>First in the pipeline of io_uring client and backend channels ({@link
 * NettyPipeline#EMPTY_WRITES}); absent on epoll and NIO.
 */
@ChannelHandler.Sharable
public final class EmptyWrites extends ChannelOutboundHandlerAdapter {
  static final EmptyWrites INSTANCE = new EmptyWrites();

  private EmptyWrites() {}

  /** Puts the filter first in {@code ch}'s pipeline when {@code ch} is an io_uring socket. */
  public static void install(Channel ch) {
    if (ch instanceof IoUringSocketChannel) {
      ch.pipeline().addFirst(NettyPipeline.EMPTY_WRITES, INSTANCE);
    }
  }

  /** Moves the filter back to the head after handlers were added first (a backend's TLS). */
  public static void keepFirst(ChannelPipeline pipeline) {
    // The class test first: on epoll and NIO a handshake pays no pipeline lookup for this.
    if (pipeline.channel() instanceof IoUringSocketChannel && pipeline.first() != INSTANCE) {
      pipeline.remove(NettyPipeline.EMPTY_WRITES);
      pipeline.addFirst(NettyPipeline.EMPTY_WRITES, INSTANCE);
    }
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (msg instanceof ByteBuf buf && !buf.isReadable() && nothingQueued(ctx.channel())) {
      buf.release();
      promise.trySuccess();
      return;
    }
    ctx.write(msg, promise);
  }

  /**
   * No bytes waiting or in flight: io_uring keeps a submitted write in the outbound buffer until
   * the kernel completed it. A closed channel (no buffer) is left to Netty to fail the write.
   */
  private static boolean nothingQueued(Channel ch) {
    ChannelOutboundBuffer out = ch.unsafe().outboundBuffer();
    return out != null && out.size() == 0 && out.totalPendingWriteBytes() == 0;
  }
}
