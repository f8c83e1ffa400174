package io.tollgate.proxyprotocol;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.tollgate.config.UpstreamProxyProtocol;
import io.tollgate.connection.CloseReason;
import io.tollgate.connection.Connection;
import io.tollgate.connection.DeadlineDecoder;
import io.tollgate.connection.Refusal;
import io.tollgate.proxyprotocol.ProxyHeaderParser.Bad;
import io.tollgate.proxyprotocol.ProxyHeaderParser.Header;
import io.tollgate.proxyprotocol.ProxyHeaderParser.NotProxy;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * First inbound handler on a listener with {@code proxy-protocol.mode = optional | required}: reads
 * the PROXY protocol header (v1 or v2) an upstream balancer sends, makes its source the
 * connection's client ({@link Connection#proxied}), consumes it and leaves the pipeline, so the
 * ClientHello inspector after it sees the TLS bytes as if they were the first ones.
 *
 * <ul>
 *   <li>A header from a source in {@code trusted}: consumed; v1 TCP4/TCP6 and v2 PROXY over
 *       IPv4/IPv6 set the client; v1 UNKNOWN, v2 LOCAL, AF_UNSPEC and AF_UNIX keep the socket's own
 *       address. TLVs are read past (a CRC32C is checked), never forwarded.
 *   <li>A header from any other source: closed, {@code proxy_untrusted}, as soon as the header's
 *       first bytes show what it is.
 *   <li>No header (the first bytes cannot start one, e.g. TLS's 0x16): {@code optional} hands them
 *       on untouched; {@code required} closes, {@code proxy_header_missing}.
 *   <li>A broken header (bad field, no CRLF within 107 bytes, v2 over 16 KiB, CRC mismatch):
 *       closed, {@code bad_proxy_header}.
 *   <li>Not complete within the timeout (the listener's {@code timeouts.client-hello}, which also
 *       bounds the ClientHello that follows): closed, {@code hello_timeout}.
 * </ul>
 *
 * <p>Stateful: one per channel. Exceptions pass on to the inspector, which reports them.
 */
public final class ProxyHeaderReader extends DeadlineDecoder {
  private static final Logger log = LoggerFactory.getLogger(ProxyHeaderReader.class);

  private final UpstreamProxyProtocol config;
  private final SourceAdmission admission;

  /**
   * Decides, once the real client address is known (from the header, or the socket's when there is
   * none), whether the connection may go on: the per-source limits.
   */
  @FunctionalInterface
  public interface SourceAdmission {
    /**
     * @return null to go on, or why the connection is refused
     */
    CloseReason admit(Channel channel, Connection conn);
  }

  /**
   * @param timeoutMillis how long the whole header may take; positive
   */
  public ProxyHeaderReader(UpstreamProxyProtocol config, long timeoutMillis) {
    this(config, timeoutMillis, (ch, conn) -> null);
  }

  /**
   * @param timeoutMillis how long the whole header may take; positive
   * @param admission asked once the client address is known
   */
  public ProxyHeaderReader(
      UpstreamProxyProtocol config, long timeoutMillis, SourceAdmission admission) {
    super(timeoutMillis);
    this.admission = Objects.requireNonNull(admission, "admission");
    this.config = Objects.requireNonNull(config, "config");
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    if (finished()) {
      return;
    }
    int version = ProxyHeaderParser.detect(in);
    if (version > 0 && !trusted(ctx)) {
      fail(
          ctx,
          CloseReason.PROXY_UNTRUSTED,
          "PROXY v"
              + version
              + " header from "
              + ctx.channel().remoteAddress()
              + ", which is not in proxy-protocol.trusted");
      return;
    }
    ProxyHeaderParser.Result result = ProxyHeaderParser.parse(in, version);
    if (result instanceof NotProxy) {
      if (config.mode() == UpstreamProxyProtocol.Mode.REQUIRED) {
        fail(
            ctx,
            CloseReason.PROXY_HEADER_MISSING,
            "first byte 0x"
                + Integer.toHexString(in.getUnsignedByte(in.readerIndex()))
                + " does not start a PROXY header, which this listener requires");
      } else {
        done(ctx);
      }
    } else if (result instanceof Bad bad) {
      fail(ctx, CloseReason.BAD_PROXY_HEADER, bad.detail());
    } else if (result instanceof Header header) {
      in.skipBytes(header.length());
      if (header.source() != null) {
        Connection conn = Connection.of(ctx.channel());
        if (conn != null) {
          conn.proxied(header.source(), header.destination());
        }
      }
      done(ctx);
    }
    // NeedMore, Started: keep buffering (bounded by the parser's limits and the timer).
  }

  private boolean trusted(ChannelHandlerContext ctx) {
    SocketAddress peer = ctx.channel().remoteAddress();
    return peer instanceof InetSocketAddress a
        && a.getAddress() != null
        && config.trusts(a.getAddress());
  }

  @Override
  protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    if (!finished() && in.isReadable()) {
      record(
          ctx,
          CloseReason.CLIENT_CLOSED,
          "closed after " + in.readableBytes() + " bytes of a PROXY header");
    }
    finish();
  }

  private void done(ChannelHandlerContext ctx) {
    Connection conn = Connection.of(ctx.channel());
    CloseReason over = conn == null ? null : admission.admit(ctx.channel(), conn);
    if (over != null) {
      fail(
          ctx,
          over,
          (over == CloseReason.DENIED ? "not allowed on this listener: " : "refused by limits for ")
              + conn.client());
      return;
    }
    finish();
    // Removal from inside decode is deferred until decode returns; then the rest of the
    // cumulation (the TLS bytes after the header) goes to the inspector.
    ctx.pipeline().remove(this);
  }

  private void fail(ChannelHandlerContext ctx, CloseReason reason, String detail) {
    finish();
    log.debug("{} {}: {}", ctx.channel(), reason.label(), detail);
    Refusal.refuse(ctx.channel(), reason, detail, null);
  }

  private static void record(ChannelHandlerContext ctx, CloseReason reason, String detail) {
    Connection conn = Connection.of(ctx.channel());
    if (conn != null) {
      conn.closeReason(reason, detail);
    }
    log.debug("{} {}: {}", ctx.channel(), reason.label(), detail);
  }

  @Override
  protected void deadlineExpired(ChannelHandlerContext ctx) {
    fail(
        ctx,
        CloseReason.HELLO_TIMEOUT,
        "no complete PROXY header after "
            + deadlineMillis()
            + " ms ("
            + actualReadableBytes()
            + " bytes received)");
  }
}
