package io.tollgate.relay;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.ssl.SslHandler;
import io.tollgate.connection.CloseReason;
import io.tollgate.connection.Connection;
import io.tollgate.connection.NettyPipeline;
import io.tollgate.net.Causes;
import io.tollgate.net.FailureKind;
import io.tollgate.pool.Lease;
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

  private boolean clientInputDone;
  private boolean backendInputDone;

  RelaySession(Channel client, Channel backend, Connection connection, Lease lease) {
    this.client = client;
    this.backend = backend;
    this.connection = connection;
    this.lease = lease;
  }

  /** {@code n} bytes came from the backend. */
  void fromBackend(int n) {
    connection.addFromBackend(n);
    if (n > 0) {
      lease.answered();
    }
  }

  Channel peerOf(Side side) {
    return side == Side.CLIENT ? backend : client;
  }

  private Channel channelOf(Side side) {
    return side == Side.CLIENT ? client : backend;
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
    connection.closeReason(closedReason(side), null);
    if (side == Side.CLIENT) {
      clientInputDone = true;
    } else {
      backendInputDone = true;
    }
    if (clientInputDone && backendInputDone) {
      flushAndClose(client);
      flushAndClose(backend);
      return;
    }
    endOutput(peerOf(side));
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
  private static void endOutput(Channel ch) {
    if (!ch.isActive()) {
      return;
    }
    ChannelFutureListener thenFin =
        f -> {
          if (f.isSuccess() && ch instanceof DuplexChannel duplex) {
            duplex.shutdownOutput();
          } else {
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
   * Lets {@code side} read again after its peer drained. Never for a side whose input has ended:
   * there is nothing left to read, and epoll fails to re-arm a half-closed socket.
   */
  void resumeReading(Side side) {
    Channel ch = channelOf(side);
    boolean inputDone = side == Side.CLIENT ? clientInputDone : backendInputDone;
    if (!inputDone && ch.isActive()) {
      ch.config().setAutoRead(true);
    }
  }

  /** {@code side}'s channel closed: close the other once what it still has to send is written. */
  void inactive(Side side) {
    connection.closeReason(closedReason(side), null);
    flushAndClose(peerOf(side));
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
      connection.closeReason(
          side == Side.CLIENT ? CloseReason.CLIENT_RESET : CloseReason.BACKEND_RESET,
          cause.getMessage() != null ? cause.getMessage() : cause.getClass().getSimpleName());
      if (side == Side.BACKEND) {
        lease.resetBeforeFirstByte(String.valueOf(cause.getMessage()));
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

  private static void flushAndClose(Channel ch) {
    if (ch.isActive()) {
      ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
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
