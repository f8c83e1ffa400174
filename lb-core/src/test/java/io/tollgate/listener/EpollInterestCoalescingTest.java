package io.tollgate.listener;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.tollgate.config.IoConfig;
import io.tollgate.connection.InputAfterFin;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link RearmingEpollIoHandler} gives the kernel only the last change of a socket's interest
 * before the loop waits, and that one before the wait: a socket that stopped reading is not read,
 * one that resumed is, and a channel closed with a change still queued costs nothing and harms no
 * other socket.
 */
@Timeout(60)
class EpollInterestCoalescingTest {
  private EventLoopGroup group;
  private ServerSocket peerListener;

  @BeforeEach
  void start() throws Exception {
    assumeTrue(Epoll.isAvailable(), "epoll is not available here");
    group = Transport.select(IoConfig.Transport.EPOLL).newGroup(1, "interest-test");
    peerListener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
  }

  @AfterEach
  void stop() throws Exception {
    if (peerListener != null) {
      peerListener.close();
    }
    if (group != null) {
      group.shutdownGracefully(0, 0, TimeUnit.SECONDS).sync();
    }
  }

  @Test
  void manyChangesBetweenTwoWaitsReachTheKernelOnce() throws Exception {
    Counting reader = new Counting();
    Channel ch = connect(reader, true);
    try (Socket peer = peerListener.accept()) {
      long before = kernelUpdates(ch);
      // 101 changes in one task: off, on, ..., off. Only the last one matters to the kernel.
      ch.eventLoop()
          .submit(
              () -> {
                for (int i = 0; i < 101; i++) {
                  ch.config().setAutoRead(i % 2 == 1);
                }
              })
          .sync();
      assertThat(kernelUpdates(ch) - before).as("epoll_ctl calls for 101 changes").isEqualTo(1);
      // 100 changes that end where they began: the kernel is not asked at all.
      long off = kernelUpdates(ch);
      ch.eventLoop()
          .submit(
              () -> {
                for (int i = 0; i < 100; i++) {
                  ch.config().setAutoRead(i % 2 == 0);
                }
              })
          .sync();
      assertThat(kernelUpdates(ch) - off).isZero();
      // And the interest the kernel holds is the last one asked for: reading is off.
      OutputStream out = peer.getOutputStream();
      out.write(new byte[1000]);
      out.flush();
      Thread.sleep(300);
      assertThat(reader.bytes.get()).as("read while reading is off").isZero();
      ch.config().setAutoRead(true);
      awaitBytes(reader, 1000);
    }
    ch.close().sync();
  }

  @Test
  void aSocketThatStopsReadingInThePassThatReadIsNotReadAgainBeforeItResumes() throws Exception {
    // The change waits for the loop's next wait, so it must reach the kernel before that wait:
    // else level-triggered epoll would report the socket readable and Netty would read it.
    Counting reader = new Counting();
    reader.stopAfterFirstRead = true;
    Channel ch = connect(reader, true);
    try (Socket peer = peerListener.accept()) {
      OutputStream out = peer.getOutputStream();
      out.write(new byte[100]);
      out.flush();
      awaitBytes(reader, 100);
      out.write(new byte[5000]);
      out.flush();
      Thread.sleep(300);
      assertThat(reader.bytes.get()).as("read after reading was turned off").isEqualTo(100);
      ch.config().setAutoRead(true);
      awaitBytes(reader, 5100);
    }
    ch.close().sync();
  }

  @Test
  void aChannelClosedWithAChangeQueuedCostsNothingAndHarmsNoOtherSocket() throws Exception {
    Counting first = new Counting();
    Channel ch = connect(first, false);
    Socket firstPeer = peerListener.accept();
    long before = kernelUpdates(ch);
    // Asked to read, then closed, before the loop waits: nothing for the kernel.
    ch.eventLoop()
        .submit(
            () -> {
              ch.read();
              ch.close();
            })
        .sync();
    ch.closeFuture().sync();
    assertThat(kernelUpdates(ch) - before).isZero();
    firstPeer.close();
    // The next socket (likely on the same descriptor number) is watched as it asks.
    Counting second = new Counting();
    Channel next = connect(second, true);
    try (Socket peer = peerListener.accept()) {
      peer.getOutputStream().write(new byte[700]);
      awaitBytes(second, 700);
      next.writeAndFlush(next.alloc().buffer().writeBytes(new byte[300])).sync();
      InputStream in = peer.getInputStream();
      assertThat(in.readNBytes(300)).hasSize(300);
    }
    next.close().sync();
  }

  private Channel connect(Counting reader, boolean autoRead) throws Exception {
    Channel ch =
        new Bootstrap()
            .group(group)
            .channel(Transport.select(IoConfig.Transport.EPOLL).socketChannel())
            .option(ChannelOption.AUTO_READ, autoRead)
            .handler(reader)
            .connect(
                new InetSocketAddress(
                    InetAddress.getLoopbackAddress(), peerListener.getLocalPort()))
            .sync()
            .channel();
    reader.channel = ch;
    return ch;
  }

  /**
   * The loop's count of changes given to the kernel, once it has given it every change asked for so
   * far (it does so before it next waits, which a task may or may not come before).
   */
  private static long kernelUpdates(Channel onLoop) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (true) {
      long[] seen =
          onLoop
              .eventLoop()
              .submit(
                  () -> {
                    RearmingEpollIoHandler h = (RearmingEpollIoHandler) InputAfterFin.onThisLoop();
                    return new long[] {h.waitingForNextTurn(), h.kernelUpdates()};
                  })
              .get();
      if (seen[0] == 0 || System.nanoTime() > deadline) {
        assertThat(seen[0]).as("changes still waiting for the loop's wait").isZero();
        return seen[1];
      }
      Thread.sleep(5);
    }
  }

  private static void awaitBytes(Counting reader, long n) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (reader.bytes.get() < n && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(reader.bytes.get()).isEqualTo(n);
  }

  /** Counts what is read; may turn reading off at its first read, as a relay under backpressure. */
  private static final class Counting extends ChannelInboundHandlerAdapter {
    final AtomicLong bytes = new AtomicLong();
    volatile Channel channel;
    volatile boolean stopAfterFirstRead;

    @Override
    public boolean isSharable() {
      return false;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ByteBuf b = (ByteBuf) msg;
      bytes.addAndGet(b.readableBytes());
      b.release();
      if (stopAfterFirstRead) {
        stopAfterFirstRead = false;
        ctx.channel().config().setAutoRead(false);
      }
    }
  }
}
