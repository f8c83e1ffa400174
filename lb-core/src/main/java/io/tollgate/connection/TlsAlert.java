package io.tollgate.connection;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;

/**
 * Fatal TLS alerts Tollgate sends in place of a ServerHello when it will not serve a connection, so
 * clients report a reason ("unrecognized name") rather than a bare connection reset. Sent only
 * before any backend byte reached the client, where a plaintext alert record is valid (RFC 8446 §6,
 * RFC 5246 §7.2).
 */
public enum TlsAlert {
  /** No route for the requested name (RFC 6066 §3). */
  UNRECOGNIZED_NAME(112),
  /** Tollgate could not reach a backend for a name it does serve. */
  INTERNAL_ERROR(80),
  /** The route does not serve this client's address (allow-from / deny-from; RFC 8446 §6.2). */
  ACCESS_DENIED(49);

  private final int code;

  TlsAlert(int code) {
    this.code = code;
  }

  /** Writes the alert record, then closes the channel. */
  public void sendAndClose(Channel ch) {
    if (!ch.isActive()) {
      ch.close();
      return;
    }
    ByteBuf record = ch.alloc().buffer(7);
    record.writeByte(21); // content type: alert
    record.writeShort(0x0303); // legacy record version, as TLS 1.3 requires
    record.writeShort(2);
    record.writeByte(2); // level: fatal
    record.writeByte(code);
    ch.writeAndFlush(record).addListener(ChannelFutureListener.CLOSE);
  }
}
