package io.tollgate.connection;

import io.netty.channel.Channel;

/**
 * Ends a connection Tollgate will not serve, the one way every stage does it: the reason goes into
 * the {@link Connection} record first (so the access log and metrics see it, and a close it
 * triggers cannot claim to be the cause), then the alert, if any, then the close.
 */
public final class Refusal {
  private Refusal() {}

  /**
   * Records {@code reason} and {@code detail} on the channel's connection (if it has one; the first
   * reason recorded wins), then sends {@code alert} and closes, or just closes when {@code alert}
   * is null: before a ServerHello a raw alert record tells a TLS client why; once Tollgate speaks
   * TLS with it, the close goes through its SslHandler (close_notify) instead, and before any TLS
   * byte (limits, a PROXY header) there is nobody to tell.
   */
  public static void refuse(Channel ch, CloseReason reason, String detail, TlsAlert alert) {
    Connection conn = Connection.of(ch);
    if (conn != null) {
      conn.closeReason(reason, detail);
    }
    if (alert != null) {
      alert.sendAndClose(ch);
    } else {
      ch.close();
    }
  }
}
