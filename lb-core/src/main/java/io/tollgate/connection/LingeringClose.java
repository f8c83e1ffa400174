package io.tollgate.connection;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Last handler of a connection Tollgate has answered itself ({@link HttpAnswer}): reads and drops
 * whatever the client still sends, and closes when the client ends its side or after {@link
 * #MILLIS}, whichever comes first (nginx's {@code lingering_close}, bounded).
 */
final class LingeringClose extends ChannelInboundHandlerAdapter {
  /** How long a client has to read an answer and close before Tollgate closes. */
  static final long MILLIS = 2_000;

  private Future<?> timer;

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    timer = ctx.executor().schedule(() -> ctx.close(), MILLIS, TimeUnit.MILLISECONDS);
    ctx.channel().config().setAutoRead(true);
    ctx.read();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    ReferenceCountUtil.release(msg);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof ChannelInputShutdownEvent) {
      ctx.close();
    }
    ReferenceCountUtil.release(evt);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    timer.cancel(false);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close(); // a reset after the answer: the reason is recorded already
  }
}
