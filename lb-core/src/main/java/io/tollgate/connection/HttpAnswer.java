package io.tollgate.connection;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.socket.DuplexChannel;
import java.nio.charset.StandardCharsets;

/**
 * The answers an http listener ({@code protocol = http}) gives itself: a status line, {@code
 * Connection: close}, an optional {@code Location}, a short text body, and then the end of the
 * connection. Like {@link Refusal}, the reason goes into the {@link Connection} record first.
 *
 * <p>With {@code linger}, the output is shut down once the answer is written and the rest of what
 * the client sends is read and dropped ({@link LingeringClose}) until it closes, at most {@link
 * LingeringClose#MILLIS}: closing a socket with unread request bytes would reset it, and a reset
 * can destroy the answer before the client has read it (a 431 for a client still sending its
 * headers). Without, the channel is closed once the answer is written (a handler that must not see
 * more reads stands in the pipeline).
 */
public final class HttpAnswer {
  private HttpAnswer() {}

  /** The statuses Tollgate answers with. */
  public enum Status {
    OK(200, "OK"),
    MOVED_PERMANENTLY(301, "Moved Permanently"),
    BAD_REQUEST(400, "Bad Request"),
    FORBIDDEN(403, "Forbidden"),
    REQUEST_TIMEOUT(408, "Request Timeout"),
    MISDIRECTED_REQUEST(421, "Misdirected Request"),
    HEADERS_TOO_LARGE(431, "Request Header Fields Too Large"),
    BAD_GATEWAY(502, "Bad Gateway"),
    SERVICE_UNAVAILABLE(503, "Service Unavailable");

    private final int code;
    private final String phrase;

    Status(int code, String phrase) {
      this.code = code;
      this.phrase = phrase;
    }

    public int code() {
      return code;
    }
  }

  /**
   * Records {@code reason} and {@code detail}, writes the answer and ends the connection.
   *
   * @param location the {@code Location} header's value, or null; must be printable ASCII
   * @param body the body (printable text), or null for the status line and a newline
   * @param withBody false for a HEAD request: headers only, Content-Length as for GET
   */
  public static void send(
      Channel ch,
      CloseReason reason,
      String detail,
      Status status,
      String location,
      String body,
      boolean withBody,
      boolean linger) {
    Connection conn = Connection.of(ch);
    if (conn != null) {
      conn.closeReason(reason, detail);
    }
    if (!ch.isActive()) {
      ch.close();
      return;
    }
    byte[] content =
        (body != null ? body : status.code + " " + status.phrase + "\n")
            .getBytes(StandardCharsets.UTF_8);
    StringBuilder head =
        new StringBuilder(160)
            .append("HTTP/1.1 ")
            .append(status.code)
            .append(' ')
            .append(status.phrase)
            .append("\r\n");
    if (location != null) {
      head.append("Location: ").append(location).append("\r\n");
    }
    head.append("Content-Type: text/plain; charset=utf-8\r\n")
        .append("Content-Length: ")
        .append(content.length)
        .append("\r\nConnection: close\r\n\r\n");
    byte[] headBytes = head.toString().getBytes(StandardCharsets.ISO_8859_1);
    ByteBuf out = ch.alloc().buffer(headBytes.length + (withBody ? content.length : 0));
    out.writeBytes(headBytes);
    if (withBody) {
      out.writeBytes(content);
    }
    if (!linger || !(ch instanceof DuplexChannel duplex)) {
      ch.writeAndFlush(out).addListener(ChannelFutureListener.CLOSE);
      return;
    }
    ch.pipeline().addLast(NettyPipeline.LINGER, new LingeringClose());
    ch.writeAndFlush(out)
        .addListener(
            f -> {
              if (f.isSuccess()) {
                duplex.shutdownOutput();
              } else {
                ch.close();
              }
            });
  }
}
