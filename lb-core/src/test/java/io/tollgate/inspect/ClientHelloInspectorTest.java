package io.tollgate.inspect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslProvider;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ClientHelloInspectorTest {
  private static final int LIMIT = 64 * 1024;
  private static final long TIMEOUT_MS = 1000;
  private static final byte[] TRAILER =
      "early application bytes".getBytes(StandardCharsets.US_ASCII);

  private static byte[] jdkHello;
  private static byte[] jdkMessage;

  private final RecordingCallback callback = new RecordingCallback();
  private EmbeddedChannel ch;

  @BeforeAll
  static void makeHellos() {
    jdkHello =
        TestHellos.real(
            SslProvider.JDK, "Shop.Example.com", List.of("h2", "http/1.1"), "TLSv1.3", "TLSv1.2");
    jdkMessage = TestHellos.handshakeMessage(jdkHello);
  }

  @AfterEach
  void releaseChannel() {
    if (ch != null) {
      ch.finishAndReleaseAll();
    }
  }

  // ---- hello complete ----------------------------------------------------------------------

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 7, 100, 512})
  void helloInSmallRecordsDeliveredOneBytePerReadIsReportedOnceAndForwardedUntouched(int payload) {
    byte[] hello = TestHellos.reframe(jdkMessage, payload);
    byte[] input = TestHellos.concat(hello, TRAILER);
    ch = inspected();

    for (int i = 0; i < input.length; i++) {
      ch.writeInbound(TestHellos.buffer(new byte[] {input[i]}));
      if (i < hello.length - 1) {
        assertThat(callback.calls()).as("after byte %d", i).isZero();
      }
    }

    ClientHello parsed = callback.onlyHello();
    assertThat(parsed.sni()).isEqualTo("shop.example.com");
    assertThat(parsed.alpn()).containsExactly("h2", "http/1.1");
    assertThat(parsed.versions()).contains(ClientHello.TLS_1_3);
    assertThat(parsed.recordBytes()).isEqualTo(hello.length);
    assertStepsAside(input);
  }

  @Test
  void helloInRandomRecordsAndChunksIsReportedOnceAndForwardedUntouched() {
    Random random = new Random(20261124);
    for (int round = 0; round < 40; round++) {
      RecordingCallback cb = new RecordingCallback();
      byte[] hello = TestHellos.reframe(jdkMessage, 1 + random.nextInt(700));
      byte[] input = TestHellos.concat(hello, TRAILER);
      EmbeddedChannel channel = inspected(cb);
      try {
        for (int pos = 0; pos < input.length; ) {
          int n = Math.min(input.length - pos, 1 + random.nextInt(300));
          channel.writeInbound(TestHellos.buffer(Arrays.copyOfRange(input, pos, pos + n)));
          pos += n;
        }
        assertThat(cb.onlyHello().sni()).isEqualTo("shop.example.com");
        assertThat(cb.onlyHello().recordBytes()).isEqualTo(hello.length);
        assertThat(drainInbound(channel)).isEqualTo(input);
        assertThat(channel.pipeline().get(ClientHelloInspector.class)).isNull();
      } finally {
        channel.finishAndReleaseAll();
      }
    }
  }

  @Test
  void boringSslHelloInOneReadIsReportedAndForwarded() {
    assumeTrue(OpenSsl.isAvailable());
    byte[] hello =
        TestHellos.real(
            SslProvider.OPENSSL, "api.example.org", List.of("h2"), "TLSv1.3", "TLSv1.2");
    ch = inspected();

    ch.writeInbound(TestHellos.buffer(hello));

    assertThat(callback.onlyHello().sni()).isEqualTo("api.example.org");
    assertStepsAside(hello);
  }

  @Test
  void boringSslHelloInSevenByteRecordsDeliveredOneBytePerReadIsForwardedUntouched() {
    assumeTrue(OpenSsl.isAvailable());
    byte[] real =
        TestHellos.real(SslProvider.OPENSSL, "pq.example.org", List.of("h2"), "TLSv1.3", "TLSv1.2");
    byte[] input =
        TestHellos.concat(TestHellos.reframe(TestHellos.handshakeMessage(real), 7), TRAILER);
    ch = inspected();

    for (byte b : input) {
      ch.writeInbound(TestHellos.buffer(new byte[] {b}));
    }

    assertThat(callback.onlyHello().sni()).isEqualTo("pq.example.org");
    assertStepsAside(input);
  }

  @Test
  void relayAddedByTheCallbackReceivesEveryByte() {
    ByteCollector relay = new ByteCollector();
    callback.onHelloAction = ctx -> ctx.pipeline().addAfter(ctx.name(), "relay", relay);
    byte[] input = TestHellos.concat(jdkHello, TRAILER);
    ch = inspected();

    ch.writeInbound(TestHellos.buffer(Arrays.copyOf(input, 100)));
    ch.writeInbound(TestHellos.buffer(Arrays.copyOfRange(input, 100, input.length)));

    callback.onlyHello();
    assertThat(relay.bytes.toByteArray()).isEqualTo(input);
    assertThat(relay.readCompletes).isPositive();
    assertThat(ch.pipeline().names()).contains("relay");
    assertThat(ch.pipeline().get(ClientHelloInspector.class)).isNull();
    assertThat(ch.config().isAutoRead()).isFalse();
  }

  @Test
  void callbackThatClosesTheChannelGetsNoSecondCallbackAndNothingLeaks() {
    callback.onHelloAction = ctx -> ctx.close();
    ch = inspected();

    ch.writeInbound(TestHellos.buffer(TestHellos.concat(jdkHello, TRAILER)));
    ch.runPendingTasks();

    callback.onlyHello();
    assertThat(ch.isOpen()).isFalse();
    assertThat(drainInbound(ch)).isEmpty();
  }

  @Test
  void callbackThatThrowsClosesTheChannelWithoutASecondCallback() {
    callback.onHelloAction =
        ctx -> {
          throw new IllegalStateException("routing blew up");
        };
    ch = inspected();

    ch.writeInbound(TestHellos.buffer(jdkHello));
    ch.runPendingTasks();

    callback.onlyHello();
    assertThat(ch.isOpen()).isFalse();
  }

  @Test
  void timerIsCancelledOnceTheHelloIsComplete() {
    ch = new EmbeddedChannel();
    ch.freezeTime();
    ch.pipeline().addLast(new ClientHelloInspector(parser(), TIMEOUT_MS, callback));

    ch.writeInbound(TestHellos.buffer(jdkHello));
    ch.advanceTimeBy(10 * TIMEOUT_MS, TimeUnit.MILLISECONDS);
    ch.runScheduledPendingTasks();

    callback.onlyHello();
    assertThat(ch.isOpen()).isTrue();
  }

  // ---- failures ----------------------------------------------------------------------------

  @Test
  void plaintextHttpFailsNotTlsAndCloses() {
    ch = inspected();
    ch.writeInbound(TestHellos.buffer("GET / HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII)));

    assertThat(callback.onlyFailure(HelloFailure.NOT_TLS)).contains("HTTP");
    assertClosedAfterOneCallback();
  }

  @Test
  void sslV2CompatibleHelloFailsNotTls() {
    ch = inspected();
    ch.writeInbound(TestHellos.buffer(new byte[] {(byte) 0x80, 0x2e, 0x01, 0x03, 0x01}));

    assertThat(callback.onlyFailure(HelloFailure.NOT_TLS)).contains("SSLv2");
    assertClosedAfterOneCallback();
  }

  @Test
  void garbageFailsNotTlsOnTheFirstByte() {
    ch = inspected();
    ch.writeInbound(TestHellos.buffer(new byte[] {0x05}));

    callback.onlyFailure(HelloFailure.NOT_TLS);
    assertClosedAfterOneCallback();
  }

  @Test
  void nonHandshakeRecordMidHelloFailsBadHello() {
    ch = inspected();
    ch.writeInbound(TestHellos.buffer(TestHellos.reframe(Arrays.copyOf(jdkMessage, 50), 50)));
    assertThat(callback.calls()).isZero();

    ch.writeInbound(TestHellos.buffer(new byte[] {23, 3, 3, 0, 1, 0}));

    callback.onlyFailure(HelloFailure.BAD_HELLO);
    assertClosedAfterOneCallback();
  }

  @Test
  void zeroLengthRecordFailsBadHello() {
    ch = inspected();
    ch.writeInbound(TestHellos.buffer(new byte[] {22, 3, 1, 0, 0}));

    callback.onlyFailure(HelloFailure.BAD_HELLO);
    assertClosedAfterOneCallback();
  }

  @Test
  void tooLargeHelloFailsAsSoonAsItsLengthIsKnown() {
    ch =
        new EmbeddedChannel(
            new ClientHelloInspector(new ClientHelloParser(32 * 1024), TIMEOUT_MS, callback));
    ch.freezeTime();
    byte[] header = {22, 3, 1, 0x40, 0x00, 1, 0x00, (byte) 0xff, (byte) 0xff}; // 65 535 bytes
    ch.writeInbound(TestHellos.buffer(Arrays.copyOf(header, 8)));
    assertThat(callback.calls()).isZero();

    ch.writeInbound(TestHellos.buffer(Arrays.copyOfRange(header, 8, 9)));

    assertThat(callback.onlyFailure(HelloFailure.HELLO_TOO_LARGE)).contains("65535");
    assertClosedAfterOneCallback();
  }

  @Test
  void truncatedHelloThenEofFailsClientClosed() {
    ch = inspected();
    ch.writeInbound(TestHellos.buffer(Arrays.copyOf(jdkHello, 123)));
    assertThat(callback.calls()).isZero();

    ch.close();

    assertThat(callback.onlyFailure(HelloFailure.CLIENT_CLOSED))
        .isEqualTo("closed after 123 bytes");
  }

  @Test
  void eofBeforeAnyByteFailsClientClosed() {
    ch = inspected();
    ch.close();

    assertThat(callback.onlyFailure(HelloFailure.CLIENT_CLOSED)).isEqualTo("closed after 0 bytes");
  }

  @Test
  void inputShutdownBeforeTheHelloFailsClientClosedAndCloses() {
    ch = inspected();
    ch.writeInbound(TestHellos.buffer(Arrays.copyOf(jdkHello, 10)));

    ch.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
    ch.runPendingTasks();

    assertThat(callback.onlyFailure(HelloFailure.CLIENT_CLOSED)).isEqualTo("closed after 10 bytes");
    assertClosedAfterOneCallback();
  }

  @Test
  void timeoutFiresOnceAndCloses() {
    ch = new EmbeddedChannel();
    ch.freezeTime();
    ch.pipeline().addLast(new ClientHelloInspector(parser(), TIMEOUT_MS, callback));
    ch.writeInbound(TestHellos.buffer(Arrays.copyOf(jdkHello, 40)));

    ch.advanceTimeBy(TIMEOUT_MS - 1, TimeUnit.MILLISECONDS);
    ch.runScheduledPendingTasks();
    assertThat(callback.calls()).isZero();

    ch.advanceTimeBy(1, TimeUnit.MILLISECONDS);
    ch.runScheduledPendingTasks();
    ch.runPendingTasks();

    assertThat(callback.onlyFailure(HelloFailure.HELLO_TIMEOUT)).contains("40 bytes");
    assertClosedAfterOneCallback();
    ch.advanceTimeBy(10 * TIMEOUT_MS, TimeUnit.MILLISECONDS);
    ch.runScheduledPendingTasks();
    assertThat(callback.calls()).isEqualTo(1);
  }

  @Test
  void timeoutStartsWhenInstalledBeforeRegistration() throws Exception {
    ch =
        new EmbeddedChannel(false, false, new ClientHelloInspector(parser(), TIMEOUT_MS, callback));
    ch.register();
    ch.freezeTime();
    ch.advanceTimeBy(TIMEOUT_MS, TimeUnit.MILLISECONDS);
    ch.runScheduledPendingTasks();

    callback.onlyFailure(HelloFailure.HELLO_TIMEOUT);
    assertClosedAfterOneCallback();
  }

  @Test
  void ioExceptionWhileInspectingFailsClientClosed() {
    ch = inspected();
    ch.writeInbound(TestHellos.buffer(Arrays.copyOf(jdkHello, 10)));

    ch.pipeline().fireExceptionCaught(new IOException("Connection reset by peer"));

    assertThat(callback.onlyFailure(HelloFailure.CLIENT_CLOSED)).contains("Connection reset");
    assertClosedAfterOneCallback();
  }

  @Test
  void otherExceptionWhileInspectingFailsBadHello() {
    ch = inspected();

    ch.pipeline().fireExceptionCaught(new IllegalStateException("boom"));

    callback.onlyFailure(HelloFailure.BAD_HELLO);
    assertClosedAfterOneCallback();
  }

  @Test
  void removedBySomeoneElseBeforeTheHelloMakesNoCallbackAndForwardsTheBytes() {
    ch = new EmbeddedChannel();
    ch.freezeTime();
    ClientHelloInspector inspector = new ClientHelloInspector(parser(), TIMEOUT_MS, callback);
    ch.pipeline().addLast(inspector);
    byte[] partial = Arrays.copyOf(jdkHello, 30);
    ch.writeInbound(TestHellos.buffer(partial));

    ch.pipeline().remove(inspector);
    ch.advanceTimeBy(10 * TIMEOUT_MS, TimeUnit.MILLISECONDS);
    ch.runScheduledPendingTasks();

    assertThat(callback.calls()).isZero();
    assertThat(drainInbound(ch)).isEqualTo(partial);
  }

  @Test
  void inspectorIsNotSharable() {
    assertThat(new ClientHelloInspector(parser(), TIMEOUT_MS, callback).isSharable()).isFalse();
  }

  // ---- helpers -----------------------------------------------------------------------------

  private static ClientHelloParser parser() {
    return new ClientHelloParser(LIMIT);
  }

  private EmbeddedChannel inspected() {
    return inspected(callback);
  }

  /** A channel with the inspector whose clock stands still, so slow tests never time out. */
  private static EmbeddedChannel inspected(RecordingCallback cb) {
    EmbeddedChannel channel =
        new EmbeddedChannel(new ClientHelloInspector(parser(), TIMEOUT_MS, cb));
    channel.freezeTime();
    return channel;
  }

  private void assertStepsAside(byte[] input) {
    assertThat(ch.pipeline().get(ClientHelloInspector.class)).isNull();
    assertThat(ch.config().isAutoRead()).isFalse();
    assertThat(ch.isOpen()).isTrue();
    assertThat(drainInbound(ch)).isEqualTo(input);
    assertThat(callback.calls()).isEqualTo(1);
  }

  private void assertClosedAfterOneCallback() {
    ch.runPendingTasks();
    assertThat(ch.isOpen()).isFalse();
    assertThat(drainInbound(ch)).isEmpty();
    assertThat(callback.calls()).isEqualTo(1);
  }

  /** Concatenates (and releases) every buffer that reached the end of the pipeline. */
  private static byte[] drainInbound(EmbeddedChannel channel) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (Object msg; (msg = channel.readInbound()) != null; ) {
      ByteBuf buf = (ByteBuf) msg;
      try {
        byte[] bytes = new byte[buf.readableBytes()];
        buf.getBytes(buf.readerIndex(), bytes);
        out.writeBytes(bytes);
      } finally {
        buf.release();
      }
    }
    return out.toByteArray();
  }

  /** Stands in for the passthrough relay: copies and releases what it reads. */
  private static final class ByteCollector extends ChannelInboundHandlerAdapter {
    final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    int readCompletes;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ByteBuf buf = (ByteBuf) msg;
      try {
        byte[] copy = new byte[buf.readableBytes()];
        buf.readBytes(copy);
        bytes.writeBytes(copy);
      } finally {
        buf.release();
      }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      readCompletes++;
    }
  }
}
