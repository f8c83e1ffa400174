package io.tollgate.inspect;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.DecoderException;
import io.tollgate.connection.DeadlineDecoder;
import io.tollgate.connection.HttpAnswer;
import java.io.IOException;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * First inbound handler of a connection to an http listener ({@code protocol = http}), the plain
 * HTTP counterpart of {@link ClientHelloInspector}: buffers (never consumes) until the request head
 * is whole, reports it to a {@link RequestCallback}, then steps aside so the untouched bytes
 * continue down the pipeline (to a relay, which sends them to the route's http-pool as they came).
 * Bounded by {@code limits.max-client-hello} bytes and {@code timeouts.client-hello}, like the
 * hello.
 *
 * <p>Exactly one callback per connection. On success {@code autoRead} is off when {@link
 * RequestCallback#onRequest} runs. On failure the callback records the reason, then the client is
 * answered with the failure's status (400, 431, 408) and the connection ends; a client that has
 * gone ({@link HttpRequestFailure#CLIENT_CLOSED}) is just closed.
 */
public final class HttpRequestInspector extends DeadlineDecoder {
  private static final Logger log = LoggerFactory.getLogger(HttpRequestInspector.class);

  /** Receives the outcome, on the channel's event loop, exactly once per connection. */
  public interface RequestCallback {
    /**
     * The head is whole. {@code autoRead} is off; the inspector leaves after this returns (unless
     * the channel was closed), forwarding the buffered bytes to the handler after it.
     */
    void onRequest(ChannelHandlerContext ctx, HttpRequestHead head);

    /** No routable head; record why. The inspector answers and closes after this returns. */
    void onFailure(ChannelHandlerContext ctx, HttpRequestFailure failure, String detail);
  }

  private final HttpRequestParser parser;
  private final RequestCallback callback;
  private final HttpRequestParser.Progress progress = new HttpRequestParser.Progress();

  /**
   * @param timeoutMillis how long the client has to send the whole head; positive
   */
  public HttpRequestInspector(
      HttpRequestParser parser, long timeoutMillis, RequestCallback callback) {
    super(timeoutMillis);
    this.parser = Objects.requireNonNull(parser, "parser");
    this.callback = Objects.requireNonNull(callback, "callback");
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    if (finished()) {
      return;
    }
    HttpRequestParser.Result result = parser.parse(in, progress);
    if (result instanceof HttpRequestParser.Done done) {
      completed(ctx, done.head());
    } else if (result instanceof HttpRequestParser.Failed failed) {
      fail(ctx, failed.failure(), failed.detail());
    }
  }

  @Override
  protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    if (!finished()) {
      fail(
          ctx,
          HttpRequestFailure.CLIENT_CLOSED,
          "closed after " + in.readableBytes() + " bytes of the request head");
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (finished()) {
      log.debug("{} exception after the request outcome, closing", ctx.channel(), cause);
      ctx.close();
      return;
    }
    Throwable root =
        cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
    if (root instanceof IOException) {
      fail(ctx, HttpRequestFailure.CLIENT_CLOSED, "exception while reading: " + root);
    } else {
      log.warn("{} exception while reading the request head", ctx.channel(), cause);
      fail(ctx, HttpRequestFailure.BAD_REQUEST, "exception while reading: " + root);
    }
  }

  private void completed(ChannelHandlerContext ctx, HttpRequestHead head) {
    finish();
    ctx.channel().config().setAutoRead(false);
    try {
      callback.onRequest(ctx, head);
    } catch (RuntimeException e) {
      log.warn("{} request callback failed, closing", ctx.channel(), e);
      ctx.close();
      return;
    }
    leave(ctx);
  }

  private void fail(ChannelHandlerContext ctx, HttpRequestFailure failure, String detail) {
    finish();
    try {
      callback.onFailure(ctx, failure, detail);
    } catch (RuntimeException e) {
      log.warn("{} failure callback failed", ctx.channel(), e);
    }
    if (failure.status() == null || !ctx.channel().isActive()) {
      ctx.close();
      return;
    }
    HttpAnswer.send(
        ctx.channel(), failure.closeReason(), detail, failure.status(), null, null, true, true);
    leave(ctx);
  }

  /** Hands the buffered bytes to the next handler (a relay, or the lingering close). */
  private void leave(ChannelHandlerContext ctx) {
    if (ctx.channel().isOpen() && !ctx.isRemoved()) {
      ctx.pipeline().remove(this);
    }
  }

  @Override
  protected void deadlineExpired(ChannelHandlerContext ctx) {
    fail(
        ctx,
        HttpRequestFailure.TIMEOUT,
        "no whole request head after "
            + deadlineMillis()
            + " ms ("
            + actualReadableBytes()
            + " bytes received)");
  }
}
