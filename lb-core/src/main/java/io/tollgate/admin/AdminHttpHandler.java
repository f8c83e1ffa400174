package io.tollgate.admin;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One admin connection, one request. The request must arrive whole within the request timeout (else
 * 408 and close), then it is handed to the admin threads and the connection reads no more; the
 * answer ends the connection. A slow client therefore only ever holds a socket on the admin event
 * loop, for a bounded time, never an admin thread.
 */
final class AdminHttpHandler extends ChannelInboundHandlerAdapter {
  private static final Logger log = LoggerFactory.getLogger(AdminHttpHandler.class);

  /** How long a closing connection waits for the client's own close. */
  static final Duration LINGER = Duration.ofSeconds(2);

  private final Function<AdminRequest, Optional<AdminResponse>> atOnce;
  private final Function<AdminRequest, AdminResponse> endpoint;
  private final Executor workers;
  private final Duration requestTimeout;
  private final Duration answerTimeout;
  private Future<?> deadline;
  private boolean received;

  /**
   * @param atOnce answers the requests that need no work (the probes) on the event loop; must not
   *     block
   * @param endpoint answers every other complete request; runs on {@code workers}
   * @param requestTimeout from accept to the last byte of the request
   * @param answerTimeout from then until the answer is written, a backstop for a client that does
   *     not read it
   */
  AdminHttpHandler(
      Function<AdminRequest, Optional<AdminResponse>> atOnce,
      Function<AdminRequest, AdminResponse> endpoint,
      Executor workers,
      Duration requestTimeout,
      Duration answerTimeout) {
    this.atOnce = atOnce;
    this.endpoint = endpoint;
    this.workers = workers;
    this.requestTimeout = requestTimeout;
    this.answerTimeout = answerTimeout;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    deadline =
        ctx.executor()
            .schedule(() -> timedOut(ctx), requestTimeout.toMillis(), TimeUnit.MILLISECONDS);
    ctx.fireChannelActive();
  }

  private void timedOut(ChannelHandlerContext ctx) {
    if (received) {
      return;
    }
    received = true;
    ctx.channel().config().setAutoRead(false);
    log.debug(
        "admin: {} sent no complete request within {}s; closing",
        ctx.channel().remoteAddress(),
        requestTimeout.toSeconds());
    write(
        ctx,
        AdminResponse.error(408, "no complete request within " + requestTimeout.toSeconds() + "s"),
        false);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (received || !(msg instanceof FullHttpRequest request)) {
      // A pipelined second request, or anything after the answer is decided: one per connection.
      ReferenceCountUtil.release(msg);
      return;
    }
    received = true;
    ctx.channel().config().setAutoRead(false);
    deadline.cancel(false);
    deadline =
        ctx.executor()
            .schedule(
                () -> {
                  ctx.close();
                },
                answerTimeout.toMillis(),
                TimeUnit.MILLISECONDS);
    AdminRequest r;
    boolean head;
    try {
      if (request.decoderResult().isFailure()) {
        write(ctx, malformed(request.decoderResult().cause()), false);
        return;
      }
      r = AdminRequest.of(request, ctx.channel().remoteAddress());
      head = r.method().equals("HEAD");
    } finally {
      request.release();
    }
    Optional<AdminResponse> now = atOnce.apply(r);
    if (now.isPresent()) {
      write(ctx, now.get(), head);
      return;
    }
    try {
      workers.execute(() -> write(ctx, answer(r), head));
    } catch (RejectedExecutionException e) {
      ctx.close(); // the endpoint is closing
    }
  }

  private AdminResponse answer(AdminRequest r) {
    try {
      return endpoint.apply(r);
    } catch (RuntimeException e) {
      log.error("admin: {} {} failed", r.method(), r.targetForLog(), e);
      return AdminResponse.error(500, "internal error: " + e);
    }
  }

  private static AdminResponse malformed(Throwable cause) {
    if (cause instanceof TooLongHttpLineException) {
      return AdminResponse.error(
          414, "request line longer than " + AdminServer.MAX_LINE + " bytes");
    }
    if (cause instanceof TooLongHttpHeaderException) {
      return AdminResponse.error(
          431, "request headers longer than " + AdminServer.MAX_HEADERS + " bytes in all");
    }
    return AdminResponse.error(400, "malformed HTTP request");
  }

  /** Writes the answer (headers only for HEAD) and closes; callable from any thread. */
  static void write(ChannelHandlerContext ctx, AdminResponse r, boolean head) {
    byte[] body = r.body().getBytes(StandardCharsets.UTF_8);
    FullHttpResponse response =
        new DefaultFullHttpResponse(
            HttpVersion.HTTP_1_1,
            HttpResponseStatus.valueOf(r.status()),
            head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(body));
    HttpHeaders h = response.headers();
    h.set(HttpHeaderNames.CONTENT_TYPE, r.contentType());
    h.setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
    h.set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
    h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    for (Map.Entry<String, String> e : r.headers().entrySet()) {
      h.set(e.getKey(), e.getValue());
    }
    ctx.writeAndFlush(response)
        .addListener((ChannelFutureListener) AdminHttpHandler::closeAfterAnswer);
  }

  /**
   * Closes gracefully: FIN first, then read and drop what the client still sends until it closes
   * too, for at most {@link #LINGER}. Closing with unread bytes in the socket (a body after a 413,
   * the rest of an over-long header) would send a reset, and the client could lose the answer.
   */
  private static void closeAfterAnswer(ChannelFuture written) {
    Channel ch = written.channel();
    if (!written.isSuccess() || !(ch instanceof SocketChannel socket) || !ch.isActive()) {
      ch.close();
      return;
    }
    ch.eventLoop()
        .schedule(
            () -> {
              ch.close();
            },
            LINGER.toMillis(),
            TimeUnit.MILLISECONDS);
    socket.shutdownOutput().addListener(f -> ch.config().setAutoRead(true));
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    log.debug(
        "admin: connection from {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
    ctx.close();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (deadline != null) {
      deadline.cancel(false);
    }
    ctx.fireChannelInactive();
  }
}
