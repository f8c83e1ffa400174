package io.tollgate.relay;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.epoll.AbstractEpollStreamChannel;
import io.netty.channel.socket.ChannelOutputShutdownException;
import io.netty.channel.socket.DuplexChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.unix.FileDescriptor;
import io.tollgate.connection.InputAfterFin;
import io.tollgate.connection.NettyPipeline;
import io.tollgate.metrics.Metrics;
import java.io.IOException;
import java.nio.ByteBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code io.splice}: a passthrough relay whose bytes go socket -> pipe -> socket inside the kernel
 * (Netty's {@link AbstractEpollStreamChannel#spliceTo}), with the relay's semantics kept where that
 * primitive alone would change them:
 *
 * <ul>
 *   <li><b>Counting.</b> Spliced bytes never pass a handler; each channel's {@link ReadCounter}
 *       sees them, and every read-complete moves its growth to the connection's counts (and the
 *       backend's first byte to its lease).
 *   <li><b>Half-close.</b> Netty reports the end of a spliced input after one splice of at most a
 *       read's size, while more may still wait in the socket: forwarding the FIN then would cut the
 *       stream short, so {@link #drain} first reads that rest the ordinary way and queues it to the
 *       peer (at most the socket's receive queue, as Netty's own read after a FIN).
 *   <li><b>Reads on demand.</b> Netty's splice turns autoRead back on for its source when a
 *       splice-out completes, also after that source's FIN, when there is nothing left to read in a
 *       half-closed socket. Spliced channels keep autoRead off; {@link #readMore} asks for the next
 *       read once the peer's queue is empty, never on a side whose input ended.
 *   <li><b>Resets.</b> A failed splice consumes the socket's error and tells only its promise; the
 *       ordinary read after it sees an end of stream. The failure is kept and becomes the reset.
 *   <li><b>Closing.</b> Netty closes a channel's pipe with the channel, but its peer's splice task
 *       keeps the pipe's descriptor number and would splice into whatever file reuses it. So a
 *       channel never closes while its peer can still read ({@link #beforeClose}): the peer is
 *       closed first, at once; a peer whose input ended (everything read) is left to flush.
 *   <li><b>Idle.</b> The session's {@link RelayIdleTimer} hears of a read only from the relay
 *       handlers' channelRead, which spliced bytes bypass, and a splice-out queued toward a slow
 *       reader shows it no progress; so every counted read (read-complete, {@link #drain}) is
 *       reported to it as activity. A spliced connection has that one timer, like any other.
 * </ul>
 *
 * <p>Backpressure: a side reads again only when its last splice into the peer has been written, so
 * each direction holds at most one pipe (64 KiB).
 */
public final class SplicedRelay {
  private static final Logger log = LoggerFactory.getLogger(SplicedRelay.class);

  /** Read size of {@link #drain}. */
  private static final int DRAIN_CHUNK = 64 * 1024;

  private final RelaySession session;
  private final Channel client;
  private final Channel backend;
  private final ReadCounter clientCounter;
  private final ReadCounter backendCounter;
  private final Metrics metrics;

  /** What each counter had reached when last moved to the connection. */
  private long clientSeen;

  private long backendSeen;

  /** Bytes that came through channelRead since the last read-complete (not spliced). */
  private long clientCopied;

  private long backendCopied;

  /** A splice from this side failed reading its socket; the relay has not heard of it yet. */
  private Throwable clientReadFailure;

  private Throwable backendReadFailure;

  private final Reader clientReader = new Reader(Side.CLIENT);
  private final Reader backendReader = new Reader(Side.BACKEND);

  private SplicedRelay(
      RelaySession session,
      ReadCounter clientCounter,
      ReadCounter backendCounter,
      Metrics metrics) {
    this.session = session;
    this.client = session.peerOf(Side.BACKEND);
    this.backend = session.peerOf(Side.CLIENT);
    this.clientCounter = clientCounter;
    this.backendCounter = backendCounter;
    this.metrics = metrics;
    this.clientSeen = clientCounter.total();
    this.backendSeen = backendCounter.total();
  }

  /** Whether backends of this channel class can be spliced to (epoll). */
  public static boolean supports(Class<? extends SocketChannel> channelClass) {
    return AbstractEpollStreamChannel.class.isAssignableFrom(channelClass);
  }

  /**
   * A spliced relay for {@code session}'s channels, or null when they cannot splice: not both
   * epoll, TLS on either, or no {@link ReadCounter} (installed before the first read).
   */
  static SplicedRelay of(RelaySession session, Metrics metrics) {
    Channel client = session.peerOf(Side.BACKEND);
    Channel backend = session.peerOf(Side.CLIENT);
    if (!(client instanceof AbstractEpollStreamChannel)
        || !(backend instanceof AbstractEpollStreamChannel)
        || client.eventLoop() != backend.eventLoop()
        || RelaySession.tlsOf(client) != null
        || RelaySession.tlsOf(backend) != null) {
      return null;
    }
    ReadCounter clientCounter = ReadCounter.of(client);
    ReadCounter backendCounter = ReadCounter.of(backend);
    if (clientCounter == null || backendCounter == null) {
      return null;
    }
    return new SplicedRelay(session, clientCounter, backendCounter, metrics);
  }

  /**
   * Starts splicing both ways (not from a client whose input ended already). Called after the relay
   * handlers are in place and the held bytes are written, before reads resume.
   */
  void start(boolean clientInputEnded) {
    // A splice learns of a stream's end only from epoll's hang-up event (InputAfterFin); it holds
    // nothing in Tollgate's memory either way, the pipe between the sockets is its only buffer.
    InputAfterFin.toEnd(client);
    InputAfterFin.toEnd(backend);
    client
        .pipeline()
        .addBefore(NettyPipeline.RELAY, NettyPipeline.SPLICE_CLOSE, new CloseGuard(Side.CLIENT));
    backend
        .pipeline()
        .addBefore(NettyPipeline.RELAY, NettyPipeline.SPLICE_CLOSE, new CloseGuard(Side.BACKEND));
    if (!clientInputEnded) {
      splice(Side.CLIENT);
    }
    splice(Side.BACKEND);
  }

  private void splice(Side from) {
    AbstractEpollStreamChannel source = (AbstractEpollStreamChannel) session.channelOf(from);
    AbstractEpollStreamChannel target = (AbstractEpollStreamChannel) session.peerOf(from);
    source
        .spliceTo(target, Integer.MAX_VALUE)
        .addListener((ChannelFuture f) -> spliceEnded(from, target, f));
  }

  /**
   * A splice task ends only by failing: its source closed (nothing to do), the write into the
   * target failed, or reading the source failed. Only the splice's promise hears of the last two
   * with their cause. A read failure (a reset) is consumed by the failed splice: the ordinary read
   * Netty goes on with then sees a plain end of stream, which must not pass for a FIN. So it is
   * kept for {@link RelaySession#inputShutdown}, and reported after this event-loop turn should
   * nothing else have.
   */
  private void spliceEnded(Side from, Channel target, ChannelFuture f) {
    Throwable cause = f.cause();
    if (cause == null || cause instanceof java.nio.channels.ClosedChannelException) {
      return;
    }
    if (cause instanceof ChannelOutputShutdownException
        && target instanceof DuplexChannel duplex
        && duplex.isOutputShutdown()) {
      session.writeFailed(from == Side.CLIENT ? Side.BACKEND : Side.CLIENT, cause);
      return;
    }
    if (log.isDebugEnabled()) {
      log.debug(
          "conn={} splice from the {} side failed: {}", session.connection().id(), from, cause);
    }
    if (from == Side.CLIENT) {
      clientReadFailure = cause;
    } else {
      backendReadFailure = cause;
    }
    session
        .channelOf(from)
        .eventLoop()
        .execute(
            () -> {
              Throwable pending = takeReadFailure(from);
              if (pending != null && session.channelOf(from).isOpen()) {
                session.failed(from, pending);
              }
            });
  }

  /** The read failure a splice from {@code side} saw and nobody reported yet, or null. */
  Throwable takeReadFailure(Side side) {
    Throwable cause;
    if (side == Side.CLIENT) {
      cause = clientReadFailure;
      clientReadFailure = null;
    } else {
      cause = backendReadFailure;
      backendReadFailure = null;
    }
    return cause;
  }

  /**
   * Lets {@code side} read (splice) once more when its peer has written everything queued so far.
   * Spliced channels keep autoRead off and ask for each read: Netty's splice would otherwise turn
   * autoRead back on by itself once a splice-out completes, also on a side whose input has ended,
   * where there is nothing left to read. The pipe bounds what one read takes (64 KiB).
   */
  void readMore(Side side) {
    Channel ch = session.channelOf(side);
    if (session.inputDone(side) || !ch.isActive()) {
      return;
    }
    (side == Side.CLIENT ? clientReader : backendReader).whenPeerDrained();
  }

  /** {@code n} bytes of {@code side} came through channelRead (not spliced); already counted. */
  void copied(Side side, int n) {
    if (side == Side.CLIENT) {
      clientCopied += n;
    } else {
      backendCopied += n;
    }
  }

  /**
   * After each read of {@code side}: moves what its counter saw to the connection, and keeps a side
   * whose input ended from reading (Netty's splice may have turned autoRead back on).
   */
  void readComplete(Side side) {
    long total;
    long delta;
    long copied;
    if (side == Side.CLIENT) {
      total = clientCounter.total();
      delta = total - clientSeen;
      clientSeen = total;
      copied = clientCopied;
      clientCopied = 0;
    } else {
      total = backendCounter.total();
      delta = total - backendSeen;
      backendSeen = total;
      copied = backendCopied;
      backendCopied = 0;
    }
    if (delta > 0) {
      count(side, delta);
      if (delta > copied) {
        metrics.spliced(delta - copied);
      }
    }
    readMore(side);
  }

  private void count(Side side, long n) {
    session.activity();
    if (side == Side.CLIENT) {
      session.connection().addFromClient(n);
    } else {
      session.fromBackend(n);
    }
  }

  /**
   * {@code side} sent FIN: reads what is left in its socket (Netty's splice may have stopped short
   * of it) and queues it to the peer, so the FIN that follows comes after the last byte.
   *
   * @return null, or the failure that ended the read
   */
  IOException drain(Side side) {
    Channel ch = session.channelOf(side);
    Channel peer = session.peerOf(side);
    readComplete(side); // what was spliced before is counted first
    if (!ch.isOpen()) {
      return null;
    }
    FileDescriptor fd = ((AbstractEpollStreamChannel) ch).fd();
    long drained = 0;
    try {
      for (; ; ) {
        ByteBuf buf = ch.alloc().directBuffer(DRAIN_CHUNK);
        int n;
        try {
          ByteBuffer nio = buf.internalNioBuffer(0, buf.writableBytes());
          n = fd.read(nio, nio.position(), nio.limit());
        } catch (IOException | RuntimeException e) {
          buf.release();
          throw e;
        }
        if (n <= 0) { // -1: end of stream; 0: nothing more now (the input ended, so none will come)
          buf.release();
          return null;
        }
        buf.writerIndex(n);
        drained += n;
        if (peer.isActive()) {
          peer.write(buf, peer.voidPromise());
        } else {
          buf.release();
        }
      }
    } catch (IOException e) {
      return e;
    } finally {
      if (drained > 0) {
        count(side, drained);
      }
    }
  }

  /**
   * {@code side}'s channel is about to close. Its peer's splice task targets this channel's pipe,
   * whose descriptor the close frees: the peer must not read again. A peer whose input ended has
   * read everything (see {@link #drain}) and may finish writing; any other is closed first.
   */
  private void beforeClose(Side side) {
    Side other = side == Side.CLIENT ? Side.BACKEND : Side.CLIENT;
    Channel peer = session.channelOf(other);
    if (peer.isOpen() && !session.inputDone(other)) {
      peer.close();
    }
  }

  /**
   * Asks one side for its next read once its peer's outbound queue (its splice-outs) is empty. The
   * read itself runs as a task: inside the read loop Netty clears the read interest of a channel
   * with autoRead off after the handlers ran.
   */
  private final class Reader implements Runnable, ChannelFutureListener {
    private final Side side;
    private boolean scheduled;
    private boolean awaitingDrain;

    Reader(Side side) {
      this.side = side;
    }

    void whenPeerDrained() {
      if (scheduled || awaitingDrain) {
        return;
      }
      Channel peer = session.peerOf(side);
      ChannelOutboundBuffer out = peer.unsafe().outboundBuffer();
      if (out == null) {
        return; // the peer's output ended: nothing to read for
      }
      if (out.isEmpty()) {
        scheduled = true;
        peer.eventLoop().execute(this);
      } else {
        awaitingDrain = true; // completes after the splice-outs queued before it
        peer.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(this);
      }
    }

    @Override
    public void run() {
      scheduled = false;
      Channel ch = session.channelOf(side);
      if (!session.inputDone(side) && ch.isActive()) {
        ch.read();
      }
    }

    @Override
    public void operationComplete(ChannelFuture f) {
      awaitingDrain = false;
      if (f.isSuccess()) {
        readMore(side);
      }
    }
  }

  /**
   * Runs {@link #beforeClose} ahead of every close of its channel that goes through Netty's
   * pipeline.
   */
  private final class CloseGuard extends ChannelOutboundHandlerAdapter {
    private final Side side;
    private boolean closing;

    CloseGuard(Side side) {
      this.side = side;
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) throws Exception {
      if (!closing) {
        closing = true; // the peer's close comes back here through its own guard
        beforeClose(side);
      }
      ctx.close(promise);
    }
  }
}
