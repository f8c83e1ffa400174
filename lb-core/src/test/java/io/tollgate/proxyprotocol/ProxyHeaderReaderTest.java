package io.tollgate.proxyprotocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.tollgate.config.Cidr;
import io.tollgate.config.UpstreamProxyProtocol;
import io.tollgate.config.UpstreamProxyProtocol.Mode;
import io.tollgate.connection.CloseReason;
import io.tollgate.connection.Connection;
import io.tollgate.connection.NettyPipeline;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The upstream side on an EmbeddedChannel whose peer is a chosen IP address. */
class ProxyHeaderReaderTest {
  private static final InetSocketAddress BALANCER = new InetSocketAddress("10.1.2.3", 40000);
  private static final InetSocketAddress STRANGER = new InetSocketAddress("192.0.2.99", 40000);
  private static final InetSocketAddress CLIENT = new InetSocketAddress("198.51.100.7", 51000);
  private static final InetSocketAddress FRONT = new InetSocketAddress("203.0.113.1", 443);
  private static final byte[] TLS = {0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5};

  private EmbeddedChannel ch;
  private Connection conn;

  /** An EmbeddedChannel that says its peer is {@code peer}. */
  private static final class PeerChannel extends EmbeddedChannel {
    private final SocketAddress peer;

    PeerChannel(SocketAddress peer) {
      super(false, false);
      this.peer = peer;
    }

    @Override
    protected SocketAddress remoteAddress0() {
      return peer;
    }
  }

  private void open(Mode mode, InetSocketAddress peer) {
    ch = new PeerChannel(peer);
    conn = new Connection("1", "main", peer, System.nanoTime());
    ch.attr(Connection.KEY).set(conn);
    UpstreamProxyProtocol config =
        new UpstreamProxyProtocol(
            mode,
            List.of(Cidr.parse("10.0.0.0/8").orElseThrow(), Cidr.parse("::1/128").orElseThrow()));
    ch.pipeline().addLast(NettyPipeline.PROXY_HEADER, new ProxyHeaderReader(config, 5000));
    try {
      ch.register();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  @AfterEach
  void close() {
    if (ch != null) {
      ch.finishAndReleaseAll();
    }
  }

  /** Everything that reached the handler after the reader, as one byte array. */
  private byte[] passedOn() {
    ByteBuf all = Unpooled.buffer();
    for (Object m; (m = ch.readInbound()) != null; ) {
      ByteBuf b = (ByteBuf) m;
      all.writeBytes(b);
      b.release();
    }
    byte[] out = new byte[all.readableBytes()];
    all.readBytes(out);
    all.release();
    return out;
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = new byte[a.length + b.length];
    System.arraycopy(a, 0, out, 0, a.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  @Test
  void v1HeaderFromATrustedBalancerSetsTheClientAndLeavesTheTlsBytesUntouched() {
    open(Mode.REQUIRED, BALANCER);
    ch.writeInbound(
        Unpooled.wrappedBuffer(
            concat(ascii("PROXY TCP4 198.51.100.7 203.0.113.1 51000 443\r\n"), TLS)));

    assertThat(passedOn()).isEqualTo(TLS);
    assertThat(conn.client()).isEqualTo(CLIENT);
    assertThat(conn.destination()).isEqualTo(FRONT);
    assertThat(conn.peer()).isEqualTo(BALANCER);
    assertThat(ch.pipeline().get(NettyPipeline.PROXY_HEADER)).isNull();
    assertThat(ch.isOpen()).isTrue();
  }

  @Test
  void v2HeaderSplitIntoOneByteReadsIsReassembled() {
    open(Mode.REQUIRED, BALANCER);
    byte[] header =
        ProxyHeaderEncoder.v2(
            CLIENT,
            FRONT,
            List.of(ProxyHeaderEncoder.Tlv.ascii(ProxyHeaderEncoder.PP2_TYPE_AUTHORITY, "x.test")),
            true);
    byte[] all = concat(header, TLS);
    for (byte b : all) {
      ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {b}));
    }

    assertThat(passedOn()).isEqualTo(TLS);
    assertThat(conn.client()).isEqualTo(CLIENT);
    assertThat(conn.destination()).isEqualTo(FRONT);
  }

  @Test
  void v2Ipv6Header() {
    open(Mode.OPTIONAL, BALANCER);
    InetSocketAddress client6 = new InetSocketAddress("2001:db8::7", 51000);
    InetSocketAddress front6 = new InetSocketAddress("2001:db8::1", 443);
    ch.writeInbound(
        Unpooled.wrappedBuffer(
            concat(ProxyHeaderEncoder.v2(client6, front6, List.of(), false), TLS)));

    assertThat(passedOn()).isEqualTo(TLS);
    assertThat(conn.client()).isEqualTo(client6);
  }

  @Test
  void v2LocalAndV1UnknownKeepTheSocketsOwnAddress() {
    open(Mode.REQUIRED, BALANCER);
    ch.writeInbound(Unpooled.wrappedBuffer(concat(ProxyHeaderEncoder.V2_LOCAL, TLS)));
    assertThat(passedOn()).isEqualTo(TLS);
    assertThat(conn.client()).isEqualTo(BALANCER);
    ch.finishAndReleaseAll();

    open(Mode.REQUIRED, BALANCER);
    ch.writeInbound(Unpooled.wrappedBuffer(concat(ascii("PROXY UNKNOWN ignored\r\n"), TLS)));
    assertThat(passedOn()).isEqualTo(TLS);
    assertThat(conn.client()).isEqualTo(BALANCER);
  }

  @Test
  void optionalModeLetsPlainTlsThroughFromAnySource() {
    open(Mode.OPTIONAL, STRANGER);
    ch.writeInbound(Unpooled.wrappedBuffer(TLS));

    assertThat(passedOn()).isEqualTo(TLS);
    assertThat(conn.client()).isEqualTo(STRANGER);
    assertThat(ch.isOpen()).isTrue();
  }

  @Test
  void requiredModeClosesWithoutAHeader() {
    open(Mode.REQUIRED, BALANCER);
    ch.writeInbound(Unpooled.wrappedBuffer(TLS));

    assertThat(passedOn()).isEmpty();
    assertThat(ch.isOpen()).isFalse();
    assertThat(conn.reason()).isEqualTo(CloseReason.PROXY_HEADER_MISSING);
  }

  @Test
  void aHeaderFromAnUntrustedSourceIsRefusedInEitherMode() {
    for (Mode mode : List.of(Mode.OPTIONAL, Mode.REQUIRED)) {
      open(mode, STRANGER);
      ch.writeInbound(Unpooled.wrappedBuffer(ascii("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n")));

      assertThat(passedOn()).isEmpty();
      assertThat(ch.isOpen()).isFalse();
      assertThat(conn.reason()).isEqualTo(CloseReason.PROXY_UNTRUSTED);
      assertThat(conn.client()).isEqualTo(STRANGER);
      ch.finishAndReleaseAll();
    }
  }

  @Test
  void garbageHeadersCloseWithBadProxyHeader() {
    byte[] crcBroken = ProxyHeaderEncoder.v2(CLIENT, FRONT, List.of(), true);
    crcBroken[crcBroken.length - 1] ^= 1;
    byte[] badCommand = ProxyHeaderEncoder.v2(CLIENT, FRONT, List.of(), false);
    badCommand[12] = 0x22;
    byte[] badVersion = ProxyHeaderEncoder.v2(CLIENT, FRONT, List.of(), false);
    badVersion[12] = 0x11;
    byte[] badFamily = ProxyHeaderEncoder.v2(CLIENT, FRONT, List.of(), false);
    badFamily[13] = 0x41;
    byte[] shortAddresses =
        HexFormat.of().parseHex("0d0a0d0a000d0a515549540a" + "21110004c0000201");
    List<byte[]> garbage =
        List.of(
            ascii("PROXY TCP4 999.1.1.1 5.6.7.8 1 2\r\n"),
            ascii("PROXY TCP4 1.2.3.4 5.6.7.8 1 70000\r\n"),
            ascii("PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n"),
            ascii("PROXY FOO 1.2.3.4 5.6.7.8 1 2\r\n"),
            ascii("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n"),
            ascii("PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n"),
            ascii("PROXY " + "A".repeat(120)),
            crcBroken,
            badCommand,
            badVersion,
            badFamily,
            shortAddresses);
    for (byte[] g : garbage) {
      open(Mode.OPTIONAL, BALANCER);
      ch.writeInbound(Unpooled.wrappedBuffer(g));

      assertThat(ch.isOpen()).as(HexFormat.of().formatHex(g)).isFalse();
      assertThat(conn.reason())
          .as(new String(g, StandardCharsets.ISO_8859_1))
          .isEqualTo(CloseReason.BAD_PROXY_HEADER);
      assertThat(passedOn()).isEmpty();
      ch.finishAndReleaseAll();
    }
  }

  @Test
  void anIncompleteHeaderTimesOutWithHelloTimeout() {
    open(Mode.REQUIRED, BALANCER);
    ch.writeInbound(Unpooled.wrappedBuffer(ascii("PROXY TCP4 1.2")));
    assertThat(ch.isOpen()).isTrue();

    ch.advanceTimeBy(5001, TimeUnit.MILLISECONDS);
    ch.runScheduledPendingTasks();

    assertThat(ch.isOpen()).isFalse();
    assertThat(conn.reason()).isEqualTo(CloseReason.HELLO_TIMEOUT);
    assertThat(conn.reasonDetail()).contains("PROXY header");
  }

  @Test
  void anOversizedV2HeaderIsRefusedBeforeItIsBuffered() {
    open(Mode.REQUIRED, BALANCER);
    ch.writeInbound(
        Unpooled.wrappedBuffer(HexFormat.of().parseHex("0d0a0d0a000d0a515549540a" + "2111ffff")));

    assertThat(ch.isOpen()).isFalse();
    assertThat(conn.reason()).isEqualTo(CloseReason.BAD_PROXY_HEADER);
  }
}
