package io.tollgate.relay;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.ssl.SslCloseCompletionEvent;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import io.tollgate.config.RouteMode;
import io.tollgate.connection.CloseReason;
import io.tollgate.connection.Connection;
import io.tollgate.connection.NettyPipeline;
import io.tollgate.connection.Refusal;
import io.tollgate.connection.TlsAlert;
import io.tollgate.connection.TlsSummary;
import io.tollgate.metrics.Metrics;
import io.tollgate.net.Causes;
import io.tollgate.net.FailureKind;
import io.tollgate.pool.Backend;
import io.tollgate.pool.Lease;
import io.tollgate.pool.Pool;
import io.tollgate.pool.PoolFullException;
import io.tollgate.proxyprotocol.BackendProxyHeader;
import io.tollgate.tls.BackendTls;
import io.tollgate.tls.SessionTickets;
import java.net.SocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Holds one client connection while its backend connection is opened, then wires a {@link
 * RelayHandler} on both channels and leaves the pipeline. Every mode goes through it:
 *
 * <ul>
 *   <li><b>passthrough</b>: starts connecting at once; the bytes it holds are the peeked
 *       ClientHello (the inspector's buffer, handed on as is), replayed unchanged.
 *   <li><b>offload</b>: stands behind the route's server {@link SslHandler} and starts connecting
 *       once the client's handshake succeeded; it holds whatever plaintext the client sent with its
 *       Finished message.
 *   <li><b>reencrypt</b>: as offload, and the backend connection gets a client SslHandler (see
 *       {@link BackendConnector}) offering the ALPN protocol the client negotiated.
 * </ul>
 *
 * <p>Client reads stay off (the inspector turned them off) until the backend is connected, so
 * nothing but the bytes already read is ever held; the server SslHandler reads by itself until its
 * handshake is done.
 */
public final class PendingRelay extends ChannelInboundHandlerAdapter
    implements BackendConnector.Outcome {
  private static final Logger log = LoggerFactory.getLogger(PendingRelay.class);

  /** Held reads of at least this many bytes are copied to the heap, see {@link #compact}. */
  private static final int COMPACT_ABOVE = 2048;

  private final Connection connection;
  private final Pool pool;
  private final RelaySettings settings;
  private final Metrics metrics;
  private final boolean afterHandshake;
  private final BackendTls backendTls;
  private final Refuser refuser;
  private ChannelHandlerContext ctx;
  private BackendConnector connector;
  private ByteBuf pending;

  /** The client ended its input (FIN, or close_notify) before the backend was connected. */
  private boolean clientInputShutdown;

  /** Offload and reencrypt: the client's handshake ended (either way). */
  private boolean handshakeEnded;

  /**
   * Its failure was counted when reported as an exception (a handshake thread's step: the
   * SslHandler then only sees the channel close).
   */
  private boolean failureCounted;

  private PendingRelay(
      Connection connection,
      Pool pool,
      RelaySettings settings,
      Metrics metrics,
      boolean afterHandshake,
      BackendTls backendTls,
      Refuser refuser) {
    this.connection = connection;
    this.pool = pool;
    this.settings = settings;
    this.metrics = metrics;
    this.afterHandshake = afterHandshake;
    this.backendTls = backendTls;
    this.refuser = refuser;
  }

  /** How a client no backend will serve is told (and its connection ended). */
  @FunctionalInterface
  public interface Refuser {
    /** Record {@code reason} and {@code detail} on the connection, tell the client, close. */
    void refuse(Channel client, CloseReason reason, String detail);
  }

  /** Passthrough: connect now and replay the peeked bytes. */
  public static PendingRelay passthrough(
      Connection connection, Pool pool, RelaySettings settings, Metrics metrics) {
    return new PendingRelay(connection, pool, settings, metrics, false, null, null);
  }

  /**
   * A plain connection (an http listener's request for a route's http-pool): connect now and replay
   * the bytes read so far, as passthrough does; a client no backend serves is told by {@code
   * refuser} (an HTTP status) instead of a TLS alert.
   */
  public static PendingRelay plain(
      Connection connection, Pool pool, RelaySettings settings, Metrics metrics, Refuser refuser) {
    return new PendingRelay(connection, pool, settings, metrics, false, null, refuser);
  }

  /**
   * Offload ({@code backendTls} null) or reencrypt: goes after the server SslHandler, connects when
   * the client's handshake succeeded.
   */
  public static PendingRelay terminated(
      Connection connection,
      Pool pool,
      RelaySettings settings,
      Metrics metrics,
      BackendTls backendTls) {
    return new PendingRelay(connection, pool, settings, metrics, true, backendTls, null);
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    if (!afterHandshake) {
      connect(null);
    }
  }

  private void connect(String alpn) {
    Pool.Selection selection = pool.select(connection.client(), connection.sni());
    if (selection.refused()) {
      endClient(selection.refusal(), selection.detail());
      return;
    }
    BackendConnector.Tls tls =
        backendTls == null
            ? null
            : new BackendConnector.Tls(
                backendTls, connection.sni(), alpn, settings.handshakeTimeout());
    connector =
        new BackendConnector(ctx.channel(), pool, selection.order(), settings, tls, this)
            .proxyHeader(proxyHeader());
    connector.start();
  }

  /** The pool's PROXY header for this connection (after the TLS handshake, if any), or null. */
  private byte[] proxyHeader() {
    SocketAddress destination =
        connection.destination() != null ? connection.destination() : ctx.channel().localAddress();
    return BackendProxyHeader.of(pool.proxyProtocol(), connection, destination);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof ByteBuf buf)) {
      ReferenceCountUtil.release(msg);
      return;
    }
    // Passthrough: normally exactly one read, the inspector's cumulation. Offload: plaintext
    // that came with the client's Finished. Keep any later ones in order.
    buf = compact(buf);
    pending = pending == null ? buf : Unpooled.wrappedBuffer(pending, buf);
  }

  /**
   * A large ClientHello waits here for the whole backend connect (seconds, with retries), in the
   * inspector's cumulation: a pooled direct buffer that grew by doubling as the hello came in. A
   * burst of large hellos would raise the pool's high-water mark (which it keeps) by twice their
   * size; held in an exactly sized heap copy instead, it is garbage once written (Netty copies a
   * heap buffer into a short-lived direct one for the write). Small reads stay as they are.
   */
  private static ByteBuf compact(ByteBuf buf) {
    int readable = buf.readableBytes();
    if (readable < COMPACT_ABOVE) {
      return buf;
    }
    try {
      return Unpooled.copiedBuffer(buf);
    } finally {
      buf.release();
    }
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    // Reads stay off while connecting; do not let the default behaviour ask for more.
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof SslHandshakeCompletionEvent done) {
      handshakeDone(ctx, done);
    } else if (evt instanceof ChannelInputShutdownEvent || evt instanceof SslCloseCompletionEvent) {
      clientInputShutdown = true;
      if (afterHandshake && !handshakeEnded) {
        // The client ended its stream before finishing its handshake (every byte it sent before
        // the end has been through the SslHandler: the HandshakeGate passes the end on in
        // order), so it can never send its Finished: end it now, not at the handshake timeout.
        // The SslHandler then fails the handshake as closed, which handshakeDone counts.
        connection.closeReason(CloseReason.CLIENT_CLOSED, "closed during the TLS handshake");
        ctx.close();
      }
    } else {
      ctx.fireUserEventTriggered(evt);
    }
  }

  /** Offload or reencrypt (what a terminated connection is). */
  private RouteMode mode() {
    return backendTls == null ? RouteMode.OFFLOAD : RouteMode.REENCRYPT;
  }

  private void handshakeDone(ChannelHandlerContext ctx, SslHandshakeCompletionEvent done) {
    if (failureCounted) {
      return; // counted, and closed, in exceptionCaught
    }
    handshakeEnded = true;
    connection.handshakeEnded(System.nanoTime());
    RouteMode mode = mode();
    if (!done.isSuccess()) {
      FailureKind kind = FailureKind.of(done.cause());
      metrics.handshakeFailed(mode, (kind.tls() ? kind : FailureKind.OTHER).label());
      connection.closeReason(
          switch (kind) {
            case HANDSHAKE_TIMEOUT -> CloseReason.HANDSHAKE_TIMEOUT;
            case CLOSED -> CloseReason.CLIENT_CLOSED;
            default -> CloseReason.HANDSHAKE_FAILED;
          },
          kind == FailureKind.CLOSED
              ? "closed during the TLS handshake"
              : Causes.message(done.cause()));
      ctx.close();
      return;
    }
    metrics.handshakeCompleted(mode, connection.handshakeNanos());
    SslHandler sslHandler = RelaySession.tlsOf(ctx.channel());
    // TLS 1.3 tickets now, not with the backend's first bytes (which may never come).
    SessionTickets.queuePending(sslHandler);
    ctx.flush();
    TlsSummary tls = TlsSummary.of(sslHandler);
    connection.tlsEstablished(tls);
    connect(tls.alpn());
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    connection.closeReason(CloseReason.CLIENT_CLOSED, "closed while connecting to the backend");
    if (connector != null) {
      connector.cancel();
    }
    releasePending();
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    releasePending();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    FailureKind kind = FailureKind.of(cause);
    if (kind.tls() && afterHandshake && !handshakeEnded) {
      // A handshake failure reported only as an exception (a ClientHello step that failed on a
      // handshake thread, its alert sent by the gate): counted here, as handshakeDone would.
      handshakeEnded = true;
      failureCounted = true;
      connection.handshakeEnded(System.nanoTime());
      metrics.handshakeFailed(mode(), kind.label());
    }
    if (kind.tls()) {
      // The server SslHandler failed (its completion event, sent first, usually has the reason).
      connection.closeReason(
          connection.tls() == null ? CloseReason.HANDSHAKE_FAILED : CloseReason.TLS_ERROR,
          Causes.message(cause));
    } else if (kind.socket()) {
      connection.closeReason(CloseReason.CLIENT_RESET, cause.getMessage());
    } else {
      connection.closeReason(CloseReason.INTERNAL_ERROR, String.valueOf(cause));
      log.warn("conn={} unexpected error while connecting", connection.id(), cause);
    }
    if (connector != null) {
      connector.cancel();
    }
    ctx.close();
  }

  @Override
  public void connected(Channel backend, Lease lease, long connectNanos) {
    Channel client = ctx.channel();
    connection.connected(lease.server().toString(), connectNanos);
    metrics.backendConnected(pool.name(), connectNanos);
    metrics.backendOpened();
    // Captures the metrics, not this: the backend's close future outlives the pending relay, which
    // would otherwise stay referenced (with its connector and context) for the connection's life.
    Metrics backendMetrics = metrics;
    backend.closeFuture().addListener(f -> backendMetrics.backendClosed());
    if (backendTls != null) {
      lease.answered(); // reencrypt: the server has spoken already, in its TLS handshake
    }
    RelaySession session =
        new RelaySession(
            client,
            backend,
            connection,
            lease,
            settings.idleTimeout().toNanos(),
            settings.lingeringClose().toNanos());
    // The relay closes its channels itself: Netty's own close on a failed write would run the
    // close future's listeners (access log, metrics) before the relay heard why (see
    // RelaySession.writeFailed).
    client.config().setAutoClose(false);
    backend.config().setAutoClose(false);
    watchTlsWrites(client, session, Side.CLIENT);
    watchTlsWrites(backend, session, Side.BACKEND);
    backend
        .pipeline()
        .replace(
            NettyPipeline.CONNECTING, NettyPipeline.RELAY, new RelayHandler(session, Side.BACKEND));
    // One idle timer for both sides, until both are closed: after the client has gone, a
    // backend that stops reading must not hold its channel (and the bytes queued for it) forever.
    // Spliced or not: a spliced relay reports the bytes it moves as activity (SplicedRelay.count).
    session.startIdleTimer();
    // io.splice: passthrough only, once the peeked bytes are written.
    SplicedRelay spliced =
        settings.splice() && !afterHandshake ? SplicedRelay.of(session, metrics) : null;
    ByteBuf early = pending;
    pending = null;
    client
        .pipeline()
        .replace(
            NettyPipeline.PENDING, NettyPipeline.RELAY, new RelayHandler(session, Side.CLIENT));
    if (early != null) {
      connection.addFromClient(early.readableBytes());
      backend.writeAndFlush(early, backend.voidPromise());
    }
    if (spliced != null) {
      session.spliced(spliced);
      spliced.start(clientInputShutdown);
    }
    session.resumeReading(Side.BACKEND);
    if (clientInputShutdown) {
      session.inputShutdown(Side.CLIENT); // forward the end that came before the backend was up
    } else {
      session.resumeReading(Side.CLIENT);
    }
  }

  /** Where Tollgate speaks TLS on {@code ch}, failed writes of records go to the session too. */
  private static void watchTlsWrites(Channel ch, RelaySession session, Side side) {
    if (RelaySession.tlsOf(ch) != null) {
      ch.pipeline()
          .addBefore(
              NettyPipeline.TLS, NettyPipeline.WRITE_WATCH, new TlsWriteWatch(session, side));
    }
  }

  @Override
  public void failed(Backend lastTried, Throwable cause, int attempts) {
    String detail = attempts + " attempt(s), last " + lastTried + ": ";
    FailureKind kind = FailureKind.of(cause);
    if (cause instanceof PoolFullException) {
      endClient(CloseReason.POOL_FULL, detail + cause.getMessage());
      return;
    }
    switch (kind) {
      case VERIFY -> endClient(CloseReason.BACKEND_VERIFY_FAILED, detail + Causes.message(cause));
      // Without backend TLS there is no handshake: a channel closed while connecting (or a
      // timeout) is a failed connect.
      case HANDSHAKE, HANDSHAKE_TIMEOUT, CLOSED ->
          endClient(
              backendTls != null
                  ? CloseReason.BACKEND_HANDSHAKE_FAILED
                  : CloseReason.CONNECT_FAILED,
              detail + Causes.message(cause));
      default -> endClient(CloseReason.CONNECT_FAILED, detail + cause.getMessage());
    }
  }

  /**
   * Ends a client that no backend will serve. Once the client speaks TLS with us, a close_notify
   * (the SslHandler's close), not a raw alert record, ends it.
   */
  private void endClient(CloseReason reason, String detail) {
    if (refuser != null) {
      refuser.refuse(ctx.channel(), reason, detail);
      return;
    }
    Refusal.refuse(ctx.channel(), reason, detail, afterHandshake ? null : TlsAlert.INTERNAL_ERROR);
  }

  private void releasePending() {
    if (pending != null) {
      pending.release();
      pending = null;
    }
  }
}
