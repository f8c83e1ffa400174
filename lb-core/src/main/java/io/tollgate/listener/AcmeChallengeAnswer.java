package io.tollgate.listener;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import io.tollgate.connection.CloseReason;
import io.tollgate.connection.Connection;
import io.tollgate.connection.NettyPipeline;
import io.tollgate.net.Causes;
import io.tollgate.relay.RelaySettings;
import io.tollgate.route.Route;
import java.util.List;

/**
 * Answers an ACME CA's tls-alpn-01 validation (RFC 8737) for a route with {@code certificate =
 * acme}: a hello that offers exactly {@code acme-tls/1} gets the challenge certificate, and the
 * connection ends once the handshake is done (the CA sends nothing else). Any other hello, and any
 * hello for a name with nothing pending, is routed as usual; passthrough routes never get here, so
 * their tenants answer their own validations.
 */
final class AcmeChallengeAnswer extends ChannelInboundHandlerAdapter {
  static final String ACME_TLS_1 = "acme-tls/1";

  private final Connection conn;

  private AcmeChallengeAnswer(Connection conn) {
    this.conn = conn;
  }

  /** Cheap enough for every hello: one size check for clients that offer the usual protocols. */
  static boolean offersOnlyAcmeTls(List<String> alpn) {
    return alpn.size() == 1 && ACME_TLS_1.equals(alpn.get(0));
  }

  /**
   * Puts the challenge's TLS handler after the inspector when the route has a validation of {@code
   * sni} pending.
   *
   * @return false when there is none (route the hello as usual)
   */
  static boolean install(
      ChannelHandlerContext ctx,
      Connection conn,
      Route route,
      String sni,
      RelaySettings relaySettings) {
    if (sni == null) {
      return false;
    }
    SslHandler tls = route.serverTls().challengeHandler(ctx.alloc(), sni);
    if (tls == null) {
      return false;
    }
    tls.setHandshakeTimeoutMillis(relaySettings.handshakeTimeout().toMillis());
    ctx.pipeline()
        .addAfter(ctx.name(), NettyPipeline.TLS, tls)
        .addAfter(NettyPipeline.TLS, NettyPipeline.ACME_CHALLENGE, new AcmeChallengeAnswer(conn));
    return true;
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof SslHandshakeCompletionEvent done) {
      if (done.isSuccess()) {
        conn.closeReason(CloseReason.ACME_CHALLENGE, "answered tls-alpn-01 for " + conn.sni());
      } else {
        conn.closeReason(
            CloseReason.HANDSHAKE_FAILED,
            "tls-alpn-01 handshake for " + conn.sni() + ": " + Causes.message(done.cause()));
      }
      ctx.close();
      return;
    }
    ctx.fireUserEventTriggered(evt);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    // The CA sends nothing after the handshake; anything else is dropped.
    ReferenceCountUtil.release(msg);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    conn.closeReason(CloseReason.HANDSHAKE_FAILED, Causes.message(cause));
    ctx.close();
  }
}
