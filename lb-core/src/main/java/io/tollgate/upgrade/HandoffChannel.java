package io.tollgate.upgrade;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.FileDescriptor;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.handler.codec.string.StringDecoder;
import io.netty.handler.codec.string.StringEncoder;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * What both ends of the hand-off share: the Unix socket speaks lines of UTF-8 text (the new
 * process's progress, the old one's go-ahead) and, from old to new, file descriptors. Whatever
 * arrives is queued for the thread that runs the hand-off, which waits with a bound; the event loop
 * never blocks.
 *
 * <p>The protocol, in order: the new process connects; the old one sends one descriptor per line of
 * the {@value #MANIFEST} file (the listener names, in the same order); the new process starts
 * accepting on them and sends {@code started} (or {@code error: ...} lines and {@code failed}); the
 * old one stops accepting and sends {@code go}; the new process writes its pid file, starts the
 * admin endpoint and sends {@code running PID}.
 */
final class HandoffChannel {
  /** Listener names, one a line, in the order their descriptors are sent. */
  static final String MANIFEST = "listeners";

  static final String SOCKET = "handoff.sock";

  /** The peer closed the Unix socket. */
  static final Object CLOSED = new Object();

  private HandoffChannel() {}

  /** A one-thread epoll loop for the hand-off, away from the data path's loops. */
  static EventLoopGroup newLoop(String role) {
    return new MultiThreadIoEventLoopGroup(
        1, new DefaultThreadFactory("tollgate-" + role, true), EpollIoHandler.newFactory());
  }

  /**
   * The channel itself once active, then lines (as String), descriptors ({@link FileDescriptor})
   * and {@link #CLOSED} into a queue.
   */
  static ChannelInitializer<Channel> queueing(BlockingQueue<Object> events) {
    return new ChannelInitializer<>() {
      @Override
      protected void initChannel(Channel ch) {
        ch.pipeline()
            .addLast(new LineBasedFrameDecoder(16 * 1024))
            .addLast(new StringDecoder(StandardCharsets.UTF_8))
            .addLast(new StringEncoder(StandardCharsets.UTF_8))
            .addLast(
                new ChannelInboundHandlerAdapter() {
                  @Override
                  public void channelActive(ChannelHandlerContext ctx) {
                    events.add(ctx.channel());
                    ctx.fireChannelActive();
                  }

                  @Override
                  public void channelRead(ChannelHandlerContext ctx, Object msg) {
                    events.add(msg);
                  }

                  @Override
                  public void channelInactive(ChannelHandlerContext ctx) {
                    events.add(CLOSED);
                  }

                  @Override
                  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                    events.add(cause);
                    ctx.close();
                  }
                });
      }
    };
  }

  static BlockingQueue<Object> newQueue() {
    return new LinkedBlockingQueue<>();
  }

  /** The next event, or null when none came within {@code limit}. */
  static Object next(BlockingQueue<Object> events, long deadlineNanos) throws InterruptedException {
    long left = deadlineNanos - System.nanoTime();
    return left <= 0 ? events.poll() : events.poll(left, TimeUnit.NANOSECONDS);
  }

  static long deadline(Duration limit) {
    return System.nanoTime() + limit.toNanos();
  }

  /** The uid that owns {@code dir}: the hand-off directory is made by, and private to, one user. */
  static int ownerUid(Path dir) throws IOException {
    return (Integer) Files.getAttribute(dir, "unix:uid");
  }
}
