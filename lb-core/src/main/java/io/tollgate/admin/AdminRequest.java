package io.tollgate.admin;

import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpVersion;
import java.net.SocketAddress;

/**
 * A complete request as the admin endpoint needs it, copied off Netty's reference-counted message
 * on the event loop so the work can run on the admin threads holding no buffer. The body is kept as
 * UTF-8 text (the aggregator bounds it): the pool-server endpoints read JSON.
 *
 * @param target the request target exactly as sent (path and query, not decoded)
 * @param http10 whether the request said HTTP/1.0 (which may omit {@code Host})
 */
record AdminRequest(
    String method,
    String target,
    boolean http10,
    HttpHeaders headers,
    SocketAddress remote,
    String body) {

  static AdminRequest of(FullHttpRequest request, SocketAddress remote) {
    return new AdminRequest(
        request.method().name(),
        request.uri(),
        request.protocolVersion().equals(HttpVersion.HTTP_1_0),
        request.headers().copy(),
        remote,
        request.content().toString(java.nio.charset.StandardCharsets.UTF_8));
  }

  boolean isRead() {
    return method.equals("GET") || method.equals("HEAD");
  }

  /** The target for a log line: see {@link #forLog}. */
  String targetForLog() {
    return forLog(target);
  }

  /**
   * Client-sent text made safe for a log line: control and non-ASCII characters escaped as {@code
   * \xNN}, at most 200 characters.
   */
  static String forLog(String s) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < s.length() && i < 200; i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c >= 0x7f || c == '\\') {
        b.append(String.format("\\x%02x", (int) c & 0xff));
      } else {
        b.append(c);
      }
    }
    return s.length() > 200 ? b + "..." : b.toString();
  }
}
