package io.tollgate.relay;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelOption;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.epoll.EpollTcpInfo;
import io.netty.channel.socket.ChannelOutputShutdownException;
import io.netty.channel.socket.DuplexChannel;
import io.netty.channel.socket.SocketChannelConfig;
import io.netty.channel.uring.IoUringSocketChannel;
import io.netty.channel.uring.IoUringTcpInfo;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.ScheduledFuture;
import io.tollgate.connection.CloseReason;
import io.tollgate.connection.Connection;
import io.tollgate.connection.NettyPipeline;
import io.tollgate.net.Causes;
import io.tollgate.net.FailureKind;
import io.tollgate.pool.Lease;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The two channels of one relayed connection and how their ends propagate: a FIN on one side
 * becomes a FIN (half-close) on the other, a reset becomes a reset, a close becomes a close once
 * pending bytes are written. Both channels run on one event loop, so no state here is shared
 * between threads.
 *
 * <p>On a side where Tollgate speaks TLS (offload, reencrypt) the end of input is the peer's
 * close_notify (or a bare FIN), and ending output means sending close_notify, then FIN.
 */
final class RelaySession {
  private static final Logger log = LoggerFactory.getLogger(RelaySession.class);

  private final Channel client;
  private final Channel backend;
  private final Connection connection;

  /** The backend attempt's lease: the relay tells it about the server's first byte or reset. */
  private final Lease lease;

  private final RelayIdleTimer idle;

  private boolean clientInputDone;
  private boolean backendInputDone;

  /** Tollgate ended this side's output (FIN after close_notify), or a write to it failed. */
  private boolean clientOutputDone;

  private boolean backendOutputDone;

  /**
   * The TLS peer on this side sent close_notify and our engine closed both ways: Netty's OpenSSL
   * engine answers a close_notify with its own and takes no more writes (no TLS half-close), so
   * what the other side still sends has nowhere to go. Without this mark those bytes went into the
   * SslHandler, which drops a void-promise write into a closed engine without a word: the relay
   * went on reading the other side at full speed for nothing, for as long as it sent.
   */
  private boolean clientTlsEnded;

  private boolean backendTlsEnded;

  /**
   * The most a lingering side is read for nothing after our FIN ({@code timeouts.lingering-close},
   * nginx's lingering_time).
   */
  private final long lingerMaxNanos;

  /** The side whose bytes have nowhere to go ({@link #undeliverable}), or null. */
  private Side lingering;

  private ScheduledFuture<?> lingerTimer;

  private long lingerUntil;

  /** When the lingering side last sent bytes that went nowhere. */
  private long lastDropNanos;

  /** io.splice: the kernel moves the bytes; null for a relay through handlers only. */
  private SplicedRelay spliced;

  /**
   * @param idleTimeoutNanos how long nothing may move before the session ends ({@link
   *     #startIdleTimer})
   * @param lingerMaxNanos {@code timeouts.lingering-close} ({@link #undeliverable})
   */
  RelaySession(
      Channel client,
      Channel backend,
      Connection connection,
      Lease lease,
      long idleTimeoutNanos,
      long lingerMaxNanos) {
    this.lingerMaxNanos = lingerMaxNanos;
    this.client = client;
    this.backend = backend;
    this.connection = connection;
    this.lease = lease;
    this.idle = new RelayIdleTimer(this, client, backend, idleTimeoutNanos);
  }

  /** Starts the idle timeout; from now on reads on either side count as activity. */
  void startIdleTimer() {
    idle.start();
  }

  /** Bytes were read on one side (for the idle timeout). */
  void activity() {
    idle.activity();
  }

  /** {@code n} bytes came from the backend. */
  void fromBackend(long n) {
    connection.addFromBackend(n);
    if (n > 0) {
      lease.answered();
    }
  }

  Channel peerOf(Side side) {
    return side == Side.CLIENT ? backend : client;
  }

  Channel channelOf(Side side) {
    return side == Side.CLIENT ? client : backend;
  }

  /** {@code side}'s input ended (FIN, or close_notify). */
  boolean inputDone(Side side) {
    return side == Side.CLIENT ? clientInputDone : backendInputDone;
  }

  void spliced(SplicedRelay spliced) {
    this.spliced = spliced;
  }

  /** The spliced relay, or null. */
  SplicedRelay spliced() {
    return spliced;
  }

  Connection connection() {
    return connection;
  }

  /**
   * {@code side} sent FIN. Forward it as a FIN once everything read before it is written, and close
   * both channels when neither direction has anything left to send.
   */
  void inputShutdown(Side side) {
    if (side == Side.CLIENT ? clientInputDone : backendInputDone) {
      return; // TLS sides report both close_notify and the FIN after it
    }
    if (spliced != null) {
      // A reset the failed splice consumed reads as an end of stream afterwards.
      Throwable failure = spliced.takeReadFailure(side);
      if (failure == null) {
        failure = spliced.drain(side);
      }
      if (failure != null) {
        failed(side, failure);
        return;
      }
    }
    connection.closeReason(closedReason(side), null);
    if (side == Side.CLIENT) {
      clientInputDone = true;
    } else {
      backendInputDone = true;
    }
    if (tlsClosedByPeer(side)) {
      if (side == Side.CLIENT) {
        clientTlsEnded = true;
      } else {
        backendTlsEnded = true;
      }
    }
    if (clientInputDone && backendInputDone) {
      flushAndClose(Side.CLIENT);
      flushAndClose(Side.BACKEND);
      return;
    }
    endOutput(side == Side.CLIENT ? Side.BACKEND : Side.CLIENT);
  }

  /**
   * Ends {@code ch}'s output after every byte relayed to it so far: FIN on plain TCP, close_notify
   * then FIN where Tollgate speaks TLS.
   *
   * <p>Bytes first, then the end. The relay writes on read and flushes on read complete, but a TLS
   * peer's close_notify is decoded in the middle of a read, right after the last bytes it
   * protected: those bytes are still queued, unencrypted, in {@code ch}'s SslHandler. Closing the
   * engine first would fail them ("SSLEngine closed already") and lose the end of the stream, so
   * they are flushed (encrypted and queued on the socket, in order) before close_notify. A plain
   * peer needs the same order; its flush is the empty write below.
   */
  private void endOutput(Side side) {
    Channel ch = channelOf(side);
    if (!ch.isActive()) {
      return;
    }
    ChannelFutureListener thenFin =
        f -> {
          if (f.isSuccess() && ch instanceof DuplexChannel duplex) {
            // Before the call: it fires ChannelOutputShutdownEvent, which must not read as a
            // failed write (see outputShutDown).
            setOutputDone(side);
            endsWithItsInput(side);
            duplex.shutdownOutput();
            if (lingering == side) {
              startLinger(side);
            }
          } else {
            socketWriteFailed(side, f.cause());
            ch.close();
          }
        };
    SslHandler tls = tlsOf(ch);
    if (tls != null) {
      ch.flush();
      // close_notify goes after the records just flushed (TLS 1.3 and BoringSSL keep reading).
      tls.closeOutbound().addListener(thenFin);
    } else {
      ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(thenFin);
    }
  }

  /**
   * Once a side's output has ended, its FIN ends a passthrough connection: nothing is left to
   * half-close. Without half-closure Netty closes the channel on that FIN ({@link #inactive} then
   * closes the peer as {@link #inputShutdown} would have), instead of shutting down the input of a
   * socket the kernel has already closed (ENOTCONN, an exception with a stack trace per
   * connection). Only where neither side speaks TLS with Tollgate (those end with close_notify) and
   * nothing is spliced (a spliced side drains its pipe first).
   */
  private void endsWithItsInput(Side side) {
    Channel ch = channelOf(side);
    if (spliced == null
        && tlsOf(ch) == null
        && tlsOf(peerOf(side)) == null
        && ch.config() instanceof SocketChannelConfig c) {
      c.setAllowHalfClosure(false);
    }
  }

  /** Nothing more can be written to {@code side}: its TLS peer closed the session both ways. */
  boolean tlsEnded(Side side) {
    return side == Side.CLIENT ? clientTlsEnded : backendTlsEnded;
  }

  /**
   * {@code from} sent bytes after its peer's close_notify closed TLS both ways: they cannot be
   * delivered. The caller drops them (not counted as activity); this decides when {@code from} is
   * let go.
   *
   * <p>A backend is reset once its kernel has acknowledged our FIN (TCP_INFO: FIN_WAIT2), so every
   * byte the client sent before its close_notify: it is streaming on to a client that left, and
   * reading it for nothing would last as long as it sends. Linux keeps what arrived readable after
   * a reset, so it loses nothing it was sent.
   *
   * <p>A client (still uploading when a reencrypt backend answered and ended) gets nginx's
   * lingering close instead: a reset now would drop what our socket has not sent yet, and a close
   * is no better, since unread input makes the kernel answer with a reset too; and some client
   * stacks drop unread bytes on a reset. It is read and dropped until its own FIN (a normal end),
   * checked every {@link #LINGER_MILLIS} by {@link #lingerCheck} once our FIN is written, for at
   * most {@link #lingerMaxNanos}.
   */
  void undeliverable(Side from) {
    lastDropNanos = System.nanoTime();
    Channel ch = channelOf(from);
    if (from == Side.BACKEND && outputDone(from) && acknowledgedOurEnd(ch)) {
      reset(ch);
      return;
    }
    if (lingering != from) {
      lingering = from;
      if (outputDone(from)) {
        startLinger(from);
      } // else endOutput's listener starts it once our FIN is out
    }
  }

  /** The period of a lingering side's checks ({@link #lingerCheck}). */
  static final long LINGER_MILLIS = 5_000;

  private void startLinger(Side side) {
    if (lingerTimer == null) {
      lingerUntil = System.nanoTime() + lingerMaxNanos;
      scheduleLingerCheck(side);
    }
  }

  private void scheduleLingerCheck(Side side) {
    // Every period, and once more at the cap when that comes sooner.
    long delay =
        Math.max(
            0,
            Math.min(
                TimeUnit.MILLISECONDS.toNanos(LINGER_MILLIS), lingerUntil - System.nanoTime()));
    lingerTimer =
        channelOf(side).eventLoop().schedule(() -> lingerCheck(side), delay, TimeUnit.NANOSECONDS);
  }

  /**
   * Ends a lingering side once it is done taking what it is owed, or cannot take more, or at {@link
   * #lingerMaxNanos}; otherwise looks again a period later, so a slow reader that keeps reading
   * gets everything. Its kernel acknowledged our FIN (TCP_INFO: FIN_WAIT2, everything arrived) and
   * it went quiet: done. Still sending then: read on, as nginx does until its lingering_time (a
   * client sending the rest of a body before it reads an early answer). Nothing in flight and no
   * data sent for a period: it stopped reading. Where TCP_INFO is not available (NIO), one period
   * after our FIN. A side that went quiet (it sent nothing for a period, so nothing is unread) is
   * closed, a FIN, after which the kernel still delivers what it holds; one that still sends is
   * reset.
   */
  private void lingerCheck(Side side) {
    Channel ch = channelOf(side);
    if (!ch.isActive()) {
      return;
    }
    long now = System.nanoTime();
    boolean quiet = now - lastDropNanos >= TimeUnit.MILLISECONDS.toNanos(LINGER_MILLIS);
    TcpState info = tcpInfo(ch);
    boolean done;
    if (info == null) {
      done = true;
    } else if (info.state() == TCP_FIN_WAIT2) {
      done = quiet;
    } else {
      done = info.unacked() == 0 && info.lastDataSent() >= LINGER_MILLIS; // stopped reading
    }
    if (done || now - lingerUntil >= 0) {
      if (quiet) {
        ch.close();
      } else {
        reset(ch);
      }
    } else {
      scheduleLingerCheck(side);
    }
  }

  /** What the lingering close reads of TCP_INFO. */
  private record TcpState(int state, long unacked, long lastDataSent) {}

  /**
   * TCP_INFO of {@code ch}, or null where it cannot be had (NIO, a socket already closed). Both
   * native transports read the same kernel structure.
   */
  private static TcpState tcpInfo(Channel ch) {
    if (!ch.isActive()) {
      return null;
    }
    try {
      if (ch instanceof EpollSocketChannel epoll) {
        EpollTcpInfo i = epoll.tcpInfo();
        return new TcpState(i.state(), i.unacked(), i.lastDataSent());
      }
      if (ch instanceof IoUringSocketChannel uring) {
        IoUringTcpInfo i = uring.tcpInfo();
        return new TcpState(i.state(), i.unacked(), i.lastDataSent());
      }
    } catch (RuntimeException e) {
      return null;
    }
    return null;
  }

  /**
   * The peer behind {@code ch} acknowledged our FIN, so every byte before it too (TCP state
   * FIN_WAIT2). Only the native transports can tell (TCP_INFO); on NIO the linger's time bound
   * decides.
   */
  private static boolean acknowledgedOurEnd(Channel ch) {
    TcpState info = tcpInfo(ch);
    return info != null && info.state() == TCP_FIN_WAIT2;
  }

  /** Linux's TCP_FIN_WAIT2 (include/net/tcp_states.h). */
  private static final int TCP_FIN_WAIT2 = 5;

  /**
   * Lets {@code side} read again after its peer drained. Never for a side whose input has ended:
   * there is nothing left to read (io_uring ignores the request; on epoll it once failed, see
   * RearmingEpollIoHandler).
   */
  void resumeReading(Side side) {
    Channel ch = channelOf(side);
    boolean inputDone = side == Side.CLIENT ? clientInputDone : backendInputDone;
    if (spliced != null) {
      spliced.readMore(side);
    } else if (!inputDone && ch.isActive()) {
      ch.config().setAutoRead(true);
    }
  }

  /** {@code side}'s channel closed: close the other once what it still has to send is written. */
  void inactive(Side side) {
    connection.closeReason(closedReason(side), null);
    Side other = side == Side.CLIENT ? Side.BACKEND : Side.CLIENT;
    if (spliced != null && !inputDone(other)) {
      // A close that bypassed the pipeline (Netty's own): the peer may still splice into this
      // side's pipe, now closed (see SplicedRelay.beforeClose).
      channelOf(other).close();
    } else {
      flushAndClose(other);
    }
    if (!client.isActive() && !backend.isActive()) {
      idle.stop();
      if (lingerTimer != null) {
        lingerTimer.cancel(false);
      }
    }
  }

  /**
   * A write to {@code side}'s socket failed: the peer behind it reset the connection (or the
   * network failed), and this is the first Tollgate hears of it when it was writing at that moment.
   * Relayed channels run with {@link io.netty.channel.ChannelOption#AUTO_CLOSE} off, so Netty only
   * shut this side's output down and the channel is still open: the reason is recorded here, before
   * the close that the access log and the metrics listen to. With auto-close on, Netty would close
   * the channel first and notify the failed write after the close future's listeners ran, so the
   * line said {@code client_closed} for a client that had reset.
   *
   * <p>Reported once per side: by the relay's own void-promise writes (a plain side fires the
   * failure into the pipeline, {@link #failed}), by {@link TlsWriteWatch} under an SslHandler, by
   * the end-of-output writes here, and, should none of those have seen it, by the output-shutdown
   * event Netty fires last ({@link #outputShutDown}).
   */
  void writeFailed(Side side, Throwable cause) {
    if (!channelOf(side).isOpen() || outputDone(side)) {
      return; // closed by us already, or its output ended on purpose, or reported already
    }
    setOutputDone(side);
    failed(side, cause);
  }

  /**
   * Netty shut {@code side}'s output down. Ours ({@link #endOutput}) is marked before it happens;
   * any other comes from a failed write (auto-close off), which normally was reported already.
   */
  void outputShutDown(Side side) {
    if (!channelOf(side).isOpen() || outputDone(side)) {
      return; // ours, or reported already: every relayed connection's FIN gets here, no exception
    }
    writeFailed(side, new ChannelOutputShutdownException("output shut down after a failed write"));
  }

  /** A write Tollgate waited for failed: a socket failure ends the side, others only close it. */
  private void socketWriteFailed(Side side, Throwable cause) {
    // Not every failure is the socket's: a write after our own FIN, or into a TLS engine the peer
    // closed (no TLS half-close, see failed), fails too and keeps the reason it has.
    if (cause != null && FailureKind.of(cause).socket()) {
      writeFailed(side, cause);
    }
  }

  private boolean outputDone(Side side) {
    return side == Side.CLIENT ? clientOutputDone : backendOutputDone;
  }

  private void setOutputDone(Side side) {
    if (side == Side.CLIENT) {
      clientOutputDone = true;
    } else {
      backendOutputDone = true;
    }
  }

  /** An exception on {@code side}: reset the peer (socket errors) and close both. */
  void failed(Side side, Throwable cause) {
    FailureKind kind = FailureKind.of(cause);
    if (tlsClosedByPeer(side) && cause instanceof javax.net.ssl.SSLException) {
      // Not a TLS error: OpenSSL answers a close_notify with its own and refuses every later
      // write (TLS 1.2 style, no TLS 1.3 half-close), so what the other side still sends fails
      // here. The peer ended the connection; the other side is reset, its bytes did not arrive.
      connection.closeReason(closedReason(side), null);
    } else if (kind.tls()) {
      connection.closeReason(
          CloseReason.TLS_ERROR,
          side.name().toLowerCase(java.util.Locale.ROOT) + ": " + Causes.message(cause));
    } else if (kind.socket()) {
      // The deepest message: a failed write arrives wrapped ("Channel output shutdown").
      connection.closeReason(
          side == Side.CLIENT ? CloseReason.CLIENT_RESET : CloseReason.BACKEND_RESET,
          Causes.message(cause));
      if (side == Side.BACKEND) {
        lease.resetBeforeFirstByte(Causes.message(cause));
      }
    } else {
      connection.closeReason(CloseReason.INTERNAL_ERROR, String.valueOf(cause));
      log.warn("conn={} unexpected error on the {} side", connection.id(), side, cause);
    }
    reset(peerOf(side));
    channelOf(side).close();
  }

  /** {@code side} sent close_notify and its TLS engine is closed both ways since. */
  private boolean tlsClosedByPeer(Side side) {
    if (!(side == Side.CLIENT ? clientInputDone : backendInputDone)) {
      return false;
    }
    SslHandler tls = tlsOf(channelOf(side));
    return tls != null && tls.engine().isInboundDone() && tls.engine().isOutboundDone();
  }

  /** Ends both sides now, with a reason recorded first (idle timeout). */
  void close(CloseReason reason) {
    connection.closeReason(reason, null);
    client.close();
    backend.close();
  }

  private static CloseReason closedReason(Side side) {
    return side == Side.CLIENT ? CloseReason.CLIENT_CLOSED : CloseReason.BACKEND_CLOSED;
  }

  private void flushAndClose(Side side) {
    Channel ch = channelOf(side);
    if (ch.isActive() && outputDone(side)) {
      // Its output ended (our FIN, or a failed write): Netty dropped its outbound buffer then, so
      // there is nothing left to flush, and a write would only fail with ClosedChannelException.
      ch.close();
    } else if (ch.isActive()) {
      ch.writeAndFlush(Unpooled.EMPTY_BUFFER)
          .addListener(
              f -> {
                if (!f.isSuccess()) {
                  socketWriteFailed(side, f.cause());
                }
                ch.close();
              });
    }
  }

  /**
   * Closes with SO_LINGER 0 so the peer sees a TCP RST rather than a clean FIN. On a TLS side the
   * SslHandler goes first: closing through it would send close_notify, and a peer that reads
   * close_notify takes a stream cut short by the other side's reset for a complete one.
   */
  static void reset(Channel ch) {
    if (ch.isActive()) {
      try {
        ch.config().setOption(ChannelOption.SO_LINGER, 0);
      } catch (RuntimeException e) {
        // Not fatal: the peer then sees a FIN instead of a reset.
        log.debug("could not set SO_LINGER=0 on {}", ch, e);
      }
      SslHandler tls = tlsOf(ch);
      if (tls != null) {
        ch.pipeline().remove(tls);
      }
    }
    ch.close();
  }

  /** {@code ch}'s SslHandler where Tollgate speaks TLS on it, else null. */
  static SslHandler tlsOf(Channel ch) {
    return (SslHandler) ch.pipeline().get(NettyPipeline.TLS);
  }
}
