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
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.tollgate.config.IoConfig;
import io.tollgate.connection.InputAfterFin;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link InputAfterFin} on the epoll loops {@link Transport} makes (and on io_uring's, {@link
 * IoUringInputAfterFinTest}): a socket whose peer sent data and its FIN is read under backpressure
 * when marked, and to its end at once (Netty's way) when not; the marks of closed channels are
 * forgotten.
 */
@Timeout(60)
class InputAfterFinTest {
  /** Fits in a socket's default receive queue unread; several of Netty's first reads. */
  private static final int SENT = 48 * 1024;

  private EventLoopGroup group;
  private ServerSocket peerListener;

  /** The transport under test (a subclass runs the same on io_uring). */
  IoConfig.Transport transport() {
    return IoConfig.Transport.EPOLL;
  }

  @BeforeEach
  void start() throws Exception {
    assumeTrue(
        transport() != IoConfig.Transport.EPOLL || Epoll.isAvailable(),
        "epoll is not available here");
    group = Transport.select(transport()).newGroup(1, "fin-test");
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
  void aMarkedSocketIsReadOnlyWhileReadingIsOnAfterItsPeersFin() throws Exception {
    Reader reader = connectAndQueueDataAndFin(true, 200);
    assertThat(reader.bytes.get()).as("read before any was asked for").isZero();
    // One read asked for: it stops there, though the peer's FIN is pending.
    reader.channel.eventLoop().submit(() -> reader.channel.read()).sync();
    Thread.sleep(300);
    assertThat(reader.bytes.get()).isPositive().isLessThan(SENT);
    assertThat(reader.ended).isFalse();
    // Reading on again: the rest, then the end.
    reader.channel.config().setAutoRead(true);
    awaitEnded(reader);
    assertThat(reader.bytes.get()).isEqualTo(SENT);
    reader.channel.close().sync();
  }

  @Test
  void anUnmarkedSocketIsReadToItsEndAtOnceAsNettyDoes() throws Exception {
    // What the mark prevents, shown on the same setup: the FIN alone makes Netty read it all,
    // though reading is off and no read was asked for.
    Reader reader = connectAndQueueDataAndFin(false, 200);
    awaitEnded(reader);
    assertThat(reader.bytes.get()).isEqualTo(SENT);
    assertThat(reader.channel.config().isAutoRead()).isFalse();
    reader.channel.close().sync();
  }

  @Test
  void liftingTheMarkAfterTheFinGivesNettysWayBack() throws Exception {
    // The refusal tarpit's case: a socket that must hear of its peer leaving, though not read.
    Reader reader = connectAndQueueDataAndFin(true, 200);
    assertThat(reader.bytes.get()).as("read before any was asked for").isZero();
    reader.channel.eventLoop().submit(() -> InputAfterFin.toEnd(reader.channel)).sync();
    awaitEnded(reader);
    assertThat(reader.bytes.get()).isEqualTo(SENT);
    reader.channel.close().sync();
  }

  @Test
  void theLoopForgetsTheChannelsItClosed() throws Exception {
    Channel loopChannel = null;
    List<Channel> channels = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      Reader r = connectAndQueueDataAndFin(i % 2 == 0, 0);
      channels.add(r.channel);
      loopChannel = r.channel;
    }
    Channel any = loopChannel;
    assertThat(registrations(any)).isGreaterThanOrEqualTo(50);
    for (Channel c : channels) {
      c.close().sync();
    }
    // Deregistration runs as a task after the close: wait for the loop to get there.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (registrations(any) > 0 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(registrations(any)).isZero();
  }

  private static int registrations(Channel onLoop) throws Exception {
    return onLoop
        .eventLoop()
        .submit(() -> ((MarkingIoHandler<?>) InputAfterFin.onThisLoop()).registrations())
        .get();
  }

  /**
   * A connected epoll channel (reads off) whose peer wrote {@link #SENT} bytes and its FIN, given
   * {@code settleMillis} to arrive.
   */
  private Reader connectAndQueueDataAndFin(boolean marked, long settleMillis) throws Exception {
    Reader reader = new Reader();
    Channel ch =
        new Bootstrap()
            .group(group)
            .channel(Transport.select(transport()).socketChannel())
            .option(ChannelOption.AUTO_READ, false)
            .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
            .handler(reader)
            .connect(
                new InetSocketAddress(
                    InetAddress.getLoopbackAddress(), peerListener.getLocalPort()))
            .sync()
            .channel();
    reader.channel = ch;
    if (marked) {
      ch.eventLoop().submit(() -> InputAfterFin.backpressured(ch)).sync();
    }
    try (Socket peer = peerListener.accept()) {
      OutputStream out = peer.getOutputStream();
      out.write(new byte[SENT]);
      peer.shutdownOutput();
      // Let the bytes and the FIN arrive, and Netty hear of the FIN.
      Thread.sleep(settleMillis);
    }
    return reader;
  }

  private static void awaitEnded(Reader reader) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!reader.ended && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(reader.ended).as("the end of the peer's stream was seen").isTrue();
  }

  /** Counts what is read, and the end of the stream. */
  private static final class Reader extends ChannelInboundHandlerAdapter {
    final AtomicLong bytes = new AtomicLong();
    volatile boolean ended;
    volatile Channel channel;

    @Override
    public boolean isSharable() {
      return false;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ByteBuf b = (ByteBuf) msg;
      bytes.addAndGet(b.readableBytes());
      b.release();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof ChannelInputShutdownEvent) {
        ended = true;
      }
      ctx.fireUserEventTriggered(evt);
    }
  }
}
