package io.tollgate.health;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.tollgate.config.BackendProxyProtocol;
import java.nio.charset.StandardCharsets;

/**
 * The PROXY header a probe sends first to a pool with {@code proxy-protocol}: one that carries no
 * client, since a probe has none, so the server keeps the connection's own addresses.
 */
final class ProbeProxyHeader {
  private ProbeProxyHeader() {}

  /** "PROXY UNKNOWN\r\n": a v1 header for a connection with no client (proxy-protocol.txt 2.1). */
  static final byte[] V1_UNKNOWN = "PROXY UNKNOWN\r\n".getBytes(StandardCharsets.US_ASCII);

  /**
   * A v2 LOCAL header (proxy-protocol.txt 2.2): the signature, 0x20 (version 2, LOCAL), 0x00
   * (AF_UNSPEC), length 0. The receiver keeps the connection's own addresses.
   */
  static final byte[] V2_LOCAL = {
    0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x20, 0x00, 0x00, 0x00
  };

  /** The header a check of a pool with {@code proxy-protocol = version} sends first, or null. */
  static byte[] of(BackendProxyProtocol.Version version) {
    return switch (version) {
      case OFF -> null;
      case V1 -> V1_UNKNOWN;
      case V2 -> V2_LOCAL;
    };
  }

  /**
   * Writes the PROXY header when the connection is up, ahead of the SslHandler's ClientHello (it
   * stands before it, so its channelActive runs first), then leaves.
   */
  static final class Writer extends ChannelInboundHandlerAdapter {
    private final byte[] header;

    Writer(byte[] header) {
      this.header = header;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      ctx.writeAndFlush(Unpooled.wrappedBuffer(header), ctx.voidPromise());
      ctx.fireChannelActive();
      ctx.pipeline().remove(this);
    }
  }
}
