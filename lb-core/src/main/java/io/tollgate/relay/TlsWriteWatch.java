package io.tollgate.relay;

import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;

/**
 * Stands between a relayed channel's SslHandler and the socket and tells the session when a write
 * of TLS records failed. Above the SslHandler the relay writes with the void promise, which the
 * SslHandler does not pass on: a socket error under it would otherwise reach no handler at all.
 * SslHandler gives each write of records a fresh promise, so this one listener (no allocation when
 * it is the promise's first) sees every failure with its cause, before anything closes the channel
 * (auto-close is off on relayed channels, see {@link RelaySession#writeFailed}).
 */
final class TlsWriteWatch extends ChannelOutboundHandlerAdapter implements ChannelFutureListener {
  private final RelaySession session;
  private final Side side;

  TlsWriteWatch(RelaySession session, Side side) {
    this.session = session;
    this.side = side;
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (!promise.isVoid()) {
      promise.addListener(this);
    }
    ctx.write(msg, promise);
  }

  @Override
  public void operationComplete(ChannelFuture f) {
    if (!f.isSuccess()) {
      session.writeFailed(side, f.cause());
    }
  }
}
