package io.tollgate.connection;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;

/**
 * Stands in front of an SslHandler Tollgate speaks TLS through (client side in offload and
 * reencrypt, backend side in reencrypt) and, once the peer's close_notify has closed the engine's
 * input, drops whatever that peer still sends and asks for no more reads.
 *
 * <p>Why: after a close_notify, Netty's OpenSSL engine consumes nothing (every unwrap reports
 * CLOSED), so the SslHandler keeps each later byte in its cumulation buffer, and because such a
 * read produced no plaintext it asks for the next read itself, autoRead or not. A peer that sent
 * close_notify and then streamed on grew that buffer without limit (50 MiB in 15 s in a test) and
 * kept the event loop reading for it. Bytes after close_notify are a TLS protocol violation with
 * nowhere to go; dropping them here, and not asking for more, leaves the socket's receive buffer to
 * hold the peer back. The end of the peer's stream still arrives (epoll reports the FIN or the
 * reset, as io_uring does, and Netty reads up to it), so the connection ends as it would have.
 */
public final class ClosedTlsInput extends ChannelDuplexHandler {
  private final SslHandler tls;

  /** The SslHandler saw a close_notify: the peer's, or (for a while before it) our own. */
  private boolean closeSeen;

  public ClosedTlsInput(SslHandler tls) {
    this.tls = tls;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    // Completes on the channel's event loop, when the SslHandler decodes a close (or the channel
    // closes): until then the checks below cost a field read.
    tls.sslCloseFuture().addListener(f -> closeSeen = true);
  }

  /** The peer's close_notify closed the engine's input (not only our own close_notify). */
  private boolean ended() {
    return closeSeen && tls.engine().isInboundDone();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (ended()) {
      ReferenceCountUtil.release(msg);
      ctx.channel().config().setAutoRead(false);
      return;
    }
    ctx.fireChannelRead(msg);
  }

  @Override
  public void read(ChannelHandlerContext ctx) {
    if (!ended()) {
      ctx.read();
    }
  }
}
