package io.tollgate.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.tollgate.connection.CloseReason;
import io.tollgate.connection.Connection;
import io.tollgate.inspect.ClientHello;
import io.tollgate.inspect.ClientHelloInspector;
import io.tollgate.inspect.HelloFailure;
import java.io.ByteArrayOutputStream;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * Feeds one input, read by read, to a channel whose pipeline ends in the real {@link
 * ClientHelloInspector} (after a PROXY header reader where the listener has one), the way the
 * listener's event loop would deliver a client's TCP segments, then sends the client's FIN. Records
 * the verdict before the FIN and after it, and every byte the inspector handed on, and checks that
 * no exception escaped the handlers and every buffer was released.
 */
final class PipelineRun implements ClientHelloInspector.HelloCallback {
  /** Long enough never to fire while one input is fed (the timer path has tests of its own). */
  static final long TIMEOUT_MILLIS = 600_000;

  private final List<Object> calls = new ArrayList<>(); // ClientHello or HelloFailure
  private final ByteArrayOutputStream forwarded = new ByteArrayOutputStream();
  private Verdict beforeEof;
  private Verdict afterEof;

  /** The verdict once every byte was read. */
  Verdict verdict() {
    return beforeEof;
  }

  /** The verdict after the client's FIN: never pending, and the channel is closed unless routed. */
  Verdict verdictAfterEof() {
    return afterEof;
  }

  /** What the inspector passed on to the next handler (the hello and what followed it). */
  byte[] forwarded() {
    return forwarded.toByteArray();
  }

  /**
   * Feeds {@code data} to {@code ch} in the reads of {@code plan}, then sends the FIN.
   *
   * @param ch a registered, active channel whose handlers report to this run, allocating from
   *     {@code alloc}
   */
  PipelineRun feed(EmbeddedChannel ch, CountingAllocator alloc, byte[] data, int[] plan) {
    Connection conn = Connection.of(ch);
    int pos = 0;
    for (int n : plan) {
      if (!ch.isOpen()) {
        break; // closed on a verdict: the rest would never be read
      }
      ch.writeInbound(alloc.copy(data, pos, n)); // rethrows what reached the pipeline's tail
      pos += n;
      drain(ch);
    }
    beforeEof = verdict(ch, conn);
    if (ch.isOpen()) {
      // The client's FIN: listeners allow half-closure, so it arrives as an input shutdown.
      ch.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
      ch.runPendingTasks();
      ch.checkException();
      drain(ch);
    }
    afterEof = verdict(ch, conn);
    if (!afterEof.outcome().equals(Verdict.HELLO)) {
      assertThat(ch.isOpen()).as("open after %s", afterEof).isFalse();
    }
    ch.finishAndReleaseAll(); // rethrows what reached the tail
    assertThat(calls).as("inspector callbacks").hasSize(1);
    assertThat(alloc.outstanding()).as("bytes in unreleased buffers").isZero();
    return this;
  }

  private void drain(EmbeddedChannel ch) {
    for (Object m; (m = ch.readInbound()) != null; ) {
      ByteBuf buf = (ByteBuf) m;
      try {
        byte[] bytes = new byte[buf.readableBytes()];
        buf.readBytes(bytes);
        forwarded.writeBytes(bytes);
      } finally {
        buf.release();
      }
    }
  }

  private Verdict verdict(EmbeddedChannel ch, Connection conn) {
    SocketAddress client = conn == null ? null : conn.client();
    SocketAddress destination = conn == null ? null : conn.destination();
    assertThat(calls.size()).as("inspector callbacks %s", calls).isLessThanOrEqualTo(1);
    Object call = calls.isEmpty() ? null : calls.get(0);
    if (call instanceof ClientHello hello) {
      return Verdict.hello(hello, client, destination);
    }
    // The first reason recorded wins, as in the listener (the inspector's client_closed after a
    // PROXY reader closed the channel is a consequence, not the cause). Every handler here records
    // a detail with its reason, and reason() alone defaults to client_closed.
    if (conn != null && conn.reasonDetail() != null) {
      LogSafeDetails.check(conn.reasonDetail(), "close detail of " + conn.reason());
      return Verdict.closed(conn.reason().label(), client, destination);
    }
    if (call instanceof HelloFailure failure) {
      return Verdict.closed(failure.closeReason().label(), client, destination);
    }
    if (!ch.isOpen()) {
      return Verdict.closed("closed without a reason", client, destination);
    }
    return Verdict.pending(client, destination);
  }

  @Override
  public void onHello(ChannelHandlerContext ctx, ClientHello hello) {
    calls.add(hello);
  }

  @Override
  public void onFailure(ChannelHandlerContext ctx, HelloFailure failure, String detail) {
    calls.add(failure);
    LogSafeDetails.check(detail, "inspector failure detail");
    assertThat(detail)
        .as("inspector failure detail")
        .doesNotStartWith("exception while inspecting")
        .doesNotStartWith("unexpected parser error");
    // As the listener's router does, so a reason recorded later (client_closed) does not count.
    Connection conn = Connection.of(ctx.channel());
    if (conn != null) {
      conn.closeReason(CloseReason.valueOf(failure.name()), detail);
    }
  }
}
