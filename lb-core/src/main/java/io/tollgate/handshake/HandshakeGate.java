package io.tollgate.handshake;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import io.tollgate.connection.CloseReason;
import io.tollgate.connection.Connection;
import io.tollgate.net.FailureKind;
import java.util.ArrayDeque;

/**
 * Stands in front of a terminated connection's server {@link SslHandler} until its handshake ends,
 * and lets each read through only when the connection's turn in its loop's {@link HandshakeQueue}
 * comes: the SslHandler's work on that read (key exchange, signature, certificate) is what the
 * queue rations. Reads stay off while the connection waits (the SslHandler asks for the next one
 * only after it has seen this one), so a waiting client costs what it sent, no more.
 */
public final class HandshakeGate extends ChannelInboundHandlerAdapter
    implements HandshakeQueue.Step {
  private final String route;
  private final SslHandler tls;
  private ChannelHandlerContext ctx;
  private ArrayDeque<Object> held;
  private boolean queued;
  private boolean readCompletePending;
  private boolean flushing;
  private boolean handshakeFailed;

  /** A gate for a connection of {@code route} whose server handshake {@code tls} runs. */
  public HandshakeGate(String route, SslHandler tls) {
    this.route = route;
    this.tls = tls;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    // Leave once the handshake ended, either way: later reads cost what relaying costs.
    // This runs inside the SslHandler's decode of a read this gate let through (flushHeld):
    // nothing may be fired from here, the outer flushHeld finishes the job.
    tls.handshakeFuture()
        .addListener(
            f -> {
              handshakeFailed = !f.isSuccess();
              if (!ctx.isRemoved()) {
                ctx.pipeline().remove(this);
              }
            });
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (held == null) {
      held = new ArrayDeque<>(2);
    }
    held.addLast(msg);
    if (!queued) {
      queued = true;
      HandshakeQueue.of(ctx.channel().eventLoop()).add(route, this);
    }
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    if (queued) {
      // The SslHandler would ask for more; it does when it gets these bytes.
      readCompletePending = true;
    } else {
      ctx.fireChannelReadComplete();
    }
  }

  /** The connection's turn: hands what it sent to the SslHandler, which does the work now. */
  @Override
  public void proceed() {
    queued = false;
    if (ctx.isRemoved() || !ctx.channel().isActive()) {
      releaseHeld();
      return;
    }
    flushHeld();
  }

  private void flushHeld() {
    if (flushing || held == null) {
      return;
    }
    flushing = true;
    try {
      Object msg;
      while ((msg = held.pollFirst()) != null) {
        if (handshakeFailed || !ctx.channel().isActive()) {
          // The SslHandler has failed the handshake and closes the channel: nobody reads this.
          ReferenceCountUtil.release(msg);
        } else {
          ctx.fireChannelRead(msg);
        }
      }
      if (readCompletePending) {
        readCompletePending = false;
        if (!handshakeFailed && ctx.channel().isActive()) {
          ctx.fireChannelReadComplete();
        }
      }
    } finally {
      flushing = false;
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (!FailureKind.of(cause).socket()) {
      ctx.fireExceptionCaught(cause);
      return;
    }
    // The client reset in the middle of its handshake (a hello flood's every connection does):
    // nothing can be sent to it any more, so close here, in front of the SslHandler, whose own
    // close would first make a close_notify, try to write it and arm a timer for it. Its
    // channelInactive still fails the handshake, which gives back what the handshake held.
    Connection conn = Connection.of(ctx.channel());
    if (conn != null) {
      conn.closeReason(CloseReason.CLIENT_RESET, cause.getMessage());
    }
    releaseHeld();
    ctx.close();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    releaseHeld();
    ctx.fireChannelInactive();
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    if (flushing) {
      return; // the handshake ended in a read this gate passed on; flushHeld finishes
    }
    // Removed while holding (the handshake timed out while waiting, or the channel is closing):
    // bytes after a successful handshake belong to the handlers behind; otherwise nobody's.
    if (!handshakeFailed && ctx.channel().isActive()) {
      flushHeld();
    } else {
      releaseHeld();
    }
  }

  private void releaseHeld() {
    if (held != null) {
      Object msg;
      while ((msg = held.pollFirst()) != null) {
        ReferenceCountUtil.release(msg);
      }
    }
    readCompletePending = false;
  }
}
