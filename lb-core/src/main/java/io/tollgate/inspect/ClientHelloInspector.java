package io.tollgate.inspect;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.DecoderException;
import io.tollgate.connection.DeadlineDecoder;
import io.tollgate.inspect.ParseResult.Done;
import io.tollgate.inspect.ParseResult.Failed;
import java.io.IOException;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * First inbound handler of a client connection: waits for the complete TLS ClientHello, reports it
 * to a {@link HelloCallback}, then steps aside so the untouched bytes continue down the pipeline.
 *
 * <p>Bytes are buffered in the decoder's cumulation and never consumed; {@link ClientHelloParser}
 * re-reads them as they accumulate. Exactly one callback is made per connection:
 *
 * <ul>
 *   <li><b>Hello complete</b>: the timeout is cancelled, {@code autoRead} is switched off (the next
 *       handler decides when to read again), {@link HelloCallback#onHello} runs (typically adding
 *       handlers after this one, or closing the channel), and then, if the channel is still open
 *       and this handler still in the pipeline, it removes itself. On removal {@link
 *       ByteToMessageDecoder} fires every buffered byte (the hello and anything pipelined after it)
 *       as one {@code channelRead} to the next handler, byte-for-byte as received.
 *   <li><b>Parse failure</b> ({@code NOT_TLS}, {@code BAD_HELLO}, {@code HELLO_TOO_LARGE}),
 *       <b>timeout</b> ({@code HELLO_TIMEOUT}, counted from when the channel is active and this
 *       handler is in the pipeline), <b>EOF or input shutdown</b> before the hello is complete
 *       ({@code CLIENT_CLOSED}) or an <b>exception</b> in the pipeline ({@code CLIENT_CLOSED} for
 *       I/O errors, else {@code BAD_HELLO}): {@link HelloCallback#onFailure} runs and the channel
 *       is closed; the buffered bytes are released when it becomes inactive.
 * </ul>
 *
 * If someone else removes this handler before the hello is complete, no callback is made.
 *
 * <p>Stateful: one instance per channel (not {@code @Sharable}). The parser and the callback may be
 * shared.
 */
public final class ClientHelloInspector extends DeadlineDecoder {
  private static final Logger log = LoggerFactory.getLogger(ClientHelloInspector.class);

  /**
   * Receives the outcome of the inspection, on the channel's event loop, exactly once per
   * connection. Implementations are typically shared by all channels.
   */
  public interface HelloCallback {
    /**
     * The ClientHello is complete. {@code autoRead} is already off; the inspector leaves the
     * pipeline after this returns (unless the channel was closed), forwarding the buffered bytes to
     * the handler after it.
     */
    void onHello(ChannelHandlerContext ctx, ClientHello hello);

    /** Inspection failed; the inspector closes the channel after this returns. */
    void onFailure(ChannelHandlerContext ctx, HelloFailure failure, String detail);
  }

  private final ClientHelloParser parser;
  private final HelloCallback callback;

  /** Record walk state over the (append-only) cumulation, so each read costs only its bytes. */
  private final ClientHelloParser.Progress progress = new ClientHelloParser.Progress();

  /**
   * @param timeoutMillis how long the client has to send the complete hello; must be positive
   */
  public ClientHelloInspector(
      ClientHelloParser parser, long timeoutMillis, HelloCallback callback) {
    super(timeoutMillis);
    this.parser = Objects.requireNonNull(parser, "parser");
    this.callback = Objects.requireNonNull(callback, "callback");
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    if (finished()) {
      return; // outcome already reported; we are being closed or removed
    }
    ParseResult result = parser.parse(in, progress);
    if (result instanceof Done done) {
      completed(ctx, done.hello());
    } else if (result instanceof Failed failed) {
      fail(ctx, failed.failure(), failed.detail());
    }
    // NeedMore: keep buffering.
  }

  /** EOF or input shutdown: {@code decode} has already seen every byte, so the hello is short. */
  @Override
  protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    if (!finished()) {
      fail(ctx, HelloFailure.CLIENT_CLOSED, "closed after " + in.readableBytes() + " bytes");
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (finished()) {
      log.debug("{} exception after the hello outcome, closing", ctx.channel(), cause);
      ctx.close();
      return;
    }
    Throwable root =
        cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
    HelloFailure failure =
        root instanceof IOException ? HelloFailure.CLIENT_CLOSED : HelloFailure.BAD_HELLO;
    log.debug("{} exception while inspecting the ClientHello", ctx.channel(), cause);
    fail(ctx, failure, "exception while inspecting: " + root);
  }

  private void completed(ChannelHandlerContext ctx, ClientHello hello) {
    finish();
    ctx.channel().config().setAutoRead(false);
    try {
      callback.onHello(ctx, hello);
    } catch (RuntimeException e) {
      log.warn("{} hello callback failed, closing", ctx.channel(), e);
      ctx.close();
      return;
    }
    if (ctx.channel().isOpen() && !ctx.isRemoved()) {
      // Removal from inside decode is deferred by ByteToMessageDecoder until decode returns; then
      // handlerRemoved fires the untouched cumulation to the next handler.
      ctx.pipeline().remove(this);
    }
  }

  private void fail(ChannelHandlerContext ctx, HelloFailure failure, String detail) {
    finish();
    try {
      callback.onFailure(ctx, failure, detail);
    } catch (RuntimeException e) {
      log.warn("{} failure callback failed", ctx.channel(), e);
    }
    ctx.close();
  }

  @Override
  protected void deadlineExpired(ChannelHandlerContext ctx) {
    fail(
        ctx,
        HelloFailure.HELLO_TIMEOUT,
        "no complete ClientHello after "
            + deadlineMillis()
            + " ms ("
            + actualReadableBytes()
            + " bytes received)");
  }
}
