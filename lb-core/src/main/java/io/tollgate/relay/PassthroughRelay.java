package io.tollgate.relay;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.ReferenceCountUtil;
import io.tollgate.NettyPipeline;
import io.tollgate.connection.CloseReason;
import io.tollgate.connection.Connection;
import io.tollgate.connection.TlsAlert;
import io.tollgate.metrics.Metrics;
import io.tollgate.pool.Backend;
import io.tollgate.pool.Pool;
import io.tollgate.pool.PoolFullException;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Passthrough for one client connection: holds the bytes the inspector peeked (the ClientHello,
 * still encrypted-session bytes Tollgate never decrypts) while it connects to a server of the
 * route's pool, replays them unchanged, then wires a {@link RelayHandler} on both channels and
 * leaves the pipeline.
 *
 * <p>It is added right after the inspector by the router; client reads stay off (the inspector
 * turned them off) until the backend is connected, so nothing but the peeked bytes is ever held.
 */
public final class PassthroughRelay extends ChannelInboundHandlerAdapter
    implements BackendConnector.Outcome {
  private static final Logger log = LoggerFactory.getLogger(PassthroughRelay.class);
  private final Connection connection;
  private final Pool pool;
  private final RelaySettings settings;
  private final Metrics metrics;
  private ChannelHandlerContext ctx;
  private BackendConnector connector;
  private ByteBuf pending;
  /** The client sent FIN before the backend was connected (hello, request and FIN at once). */
  private boolean clientInputShutdown;

  public PassthroughRelay(
      Connection connection, Pool pool, RelaySettings settings, Metrics metrics) {
    this.connection = connection;
    this.pool = pool;
    this.settings = settings;
    this.metrics = metrics;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    Pool.Selection selection = pool.select(connection.client(), connection.sni());
    if (selection.refused()) {
      connection.closeReason(selection.refusal(), selection.detail());
      TlsAlert.INTERNAL_ERROR.sendAndClose(ctx.channel());
      return;
    }
    connector = new BackendConnector(ctx.channel(), selection.order(), settings, this, pool);
    connector.start();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof ByteBuf buf)) {
      ReferenceCountUtil.release(msg);
      return;
    }
    // Normally exactly one read: the inspector's cumulation. Keep any later ones in order.
    pending = pending == null ? buf : Unpooled.wrappedBuffer(pending, buf);
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    // Reads stay off while connecting; do not let the default behaviour ask for more.
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof ChannelInputShutdownEvent) {
      clientInputShutdown = true;
    } else {
      ctx.fireUserEventTriggered(evt);
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    connection.closeReason(CloseReason.CLIENT_CLOSED, "closed while connecting to the backend");
    cancelConnect();
    releasePending();
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    releasePending();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof IOException) {
      connection.closeReason(CloseReason.CLIENT_RESET, cause.getMessage());
    } else {
      connection.closeReason(CloseReason.INTERNAL_ERROR, String.valueOf(cause));
      log.warn("conn={} unexpected error while connecting", connection.id(), cause);
    }
    cancelConnect();
    ctx.close();
  }

  @Override
  public void connected(Channel backend, Backend server, long connectNanos) {
    Channel client = ctx.channel();
    connection.connected(server.toString(), connectNanos);
    metrics.backendOpened();
    backend.closeFuture().addListener(f -> metrics.backendClosed());
    RelaySession session = new RelaySession(client, backend, connection);
    BackendConnector.installRelay(backend, new RelayHandler(session, Side.BACKEND));
    // Both sides get an idle timer: after the client has gone, a backend that stops reading
    // must not hold its channel (and the bytes queued for it) forever.
    backend.pipeline().addBefore(NettyPipeline.RELAY, NettyPipeline.IDLE, idleHandler());
    client.pipeline().addBefore(ctx.name(), NettyPipeline.IDLE, idleHandler());
    ByteBuf hello = pending;
    pending = null;
    client.pipeline().replace(this, NettyPipeline.RELAY, new RelayHandler(session, Side.CLIENT));
    if (hello != null) {
      connection.addFromClient(hello.readableBytes());
      backend.writeAndFlush(hello, backend.voidPromise());
    }
    session.resumeReading(Side.BACKEND);
    if (clientInputShutdown) {
      session.inputShutdown(Side.CLIENT); // forward the FIN that came before the backend was up
    } else {
      session.resumeReading(Side.CLIENT);
    }
  }

  @Override
  public void failed(Backend lastTried, Throwable cause, int attempts) {
    connection.closeReason(
        cause instanceof PoolFullException ? CloseReason.POOL_FULL : CloseReason.CONNECT_FAILED,
        attempts + " attempt(s), last " + lastTried + ": " + cause.getMessage());
    TlsAlert.INTERNAL_ERROR.sendAndClose(ctx.channel());
  }

  private void cancelConnect() {
    if (connector != null) { // null when the pool refused the connection
      connector.cancel();
    }
  }

  private IdleStateHandler idleHandler() {
    return new IdleStateHandler(
        true, 0, 0, settings.idleTimeout().toMillis(), TimeUnit.MILLISECONDS);
  }

  private void releasePending() {
    if (pending != null) {
      pending.release();
      pending = null;
    }
  }
}
