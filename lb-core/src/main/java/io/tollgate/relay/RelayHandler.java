package io.tollgate.relay;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.ChannelOutputShutdownEvent;
import io.netty.handler.ssl.SslCloseCompletionEvent;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;

/**
 * Copies what one channel reads to its peer, the same buffers, no copy. Backpressure: when the
 * peer's outbound buffer passes its high water mark this side stops reading; when this side's own
 * outbound buffer drains below its low water mark, the peer starts reading again. So the bytes a
 * connection holds stay bounded whatever either peer does.
 *
 * <p>One instance per channel; it stays until the channel closes.
 */
final class RelayHandler extends ChannelInboundHandlerAdapter {
  private final RelaySession session;
  private final Side side;
  private final Channel peer;
  private final Side peerSide;

  /** TLS side: SslHandler reported a close that was ours; the peer's is still to come. */
  private boolean awaitingCloseNotify;

  RelayHandler(RelaySession session, Side side) {
    this.session = session;
    this.side = side;
    this.peer = session.peerOf(side);
    this.peerSide = side == Side.CLIENT ? Side.BACKEND : Side.CLIENT;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof ByteBuf buf)) {
      ReferenceCountUtil.release(msg);
      return;
    }
    // Bytes that go nowhere are neither relayed nor activity: counting them kept the idle timer
    // of a connection whose other side had closed from ever firing while this side sent on.
    if (!peer.isActive()) {
      buf.release();
      // The peer closed: this side closes once what it is owed is flushed (RelaySession.inactive),
      // or at the idle timeout if it never reads that; reading it meanwhile buys nothing.
      ctx.channel().config().setAutoRead(false);
      return;
    }
    if (session.tlsEnded(peerSide)) {
      buf.release(); // the peer's close_notify ended TLS both ways
      session.undeliverable(side);
      return;
    }
    session.activity();
    int n = buf.readableBytes();
    SplicedRelay spliced = session.spliced();
    if (spliced != null) {
      spliced.copied(side, n); // counted with the spliced bytes, at read complete
    } else if (side == Side.CLIENT) {
      session.connection().addFromClient(n);
    } else {
      session.fromBackend(n);
    }
    peer.write(buf, peer.voidPromise());
    if (!peer.isWritable()) {
      ctx.channel().config().setAutoRead(false);
    }
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    peer.flush();
    SplicedRelay spliced = session.spliced();
    if (spliced != null) {
      spliced.readComplete(side);
    }
    if (awaitingCloseNotify && peerEndedTls(ctx)) {
      awaitingCloseNotify = false;
      session.inputShutdown(side);
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    // Our outbound buffer holds the peer's bytes; once it drains, let the peer send more.
    if (ctx.channel().isWritable()) {
      session.resumeReading(side == Side.CLIENT ? Side.BACKEND : Side.CLIENT);
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof SslCloseCompletionEvent close && close.isSuccess() && !peerEndedTls(ctx)) {
      // Not the peer's close_notify but our own: once OpenSSL has sent close_notify it reports
      // every later unwrap as CLOSED, and SslHandler passes that on as this event, while the
      // peer may still be sending (the other direction of a half-close). Its own close_notify
      // shows in the engine after a read; a FIN ends the input as well.
      awaitingCloseNotify = true;
    } else if (evt instanceof ChannelInputShutdownEvent || evt instanceof SslCloseCompletionEvent) {
      session.inputShutdown(side);
    } else if (evt instanceof ChannelOutputShutdownEvent) {
      session.outputShutDown(side);
    } else {
      ctx.fireUserEventTriggered(evt);
    }
  }

  /** The TLS peer of this channel sent close_notify (true for a plain channel). */
  private static boolean peerEndedTls(ChannelHandlerContext ctx) {
    SslHandler tls = RelaySession.tlsOf(ctx.channel());
    return tls == null || tls.engine().isInboundDone();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    session.inactive(side);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    session.failed(side, cause);
  }
}
