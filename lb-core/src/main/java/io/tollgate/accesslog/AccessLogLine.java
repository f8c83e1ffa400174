package io.tollgate.accesslog;

import io.tollgate.connection.Connection;
import io.tollgate.connection.LogText;
import io.tollgate.connection.TlsSummary;
import io.tollgate.json.Json;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;

/**
 * Formats one connection as a JSON object on one line. Every field is always present (null when
 * unknown) so the lines load as one table; the field list is in README ("Access log").
 *
 * <p>Bounded whatever the client sent: every string is cut at {@link #MAX_FIELD} characters (ending
 * in "..."), the offered ALPN names are the hello's capped few, and {@link Json} escapes every
 * control character, so a line is always one line of at most a few KiB.
 */
public final class AccessLogLine {
  /** Longest string value written, in characters before escaping: as in the debug line. */
  static final int MAX_FIELD = LogText.MAX_FIELD;

  /** Fixed width, milliseconds, UTC: sorts as text and parses as ISO 8601 / RFC 3339. */
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

  private AccessLogLine() {}

  /**
   * @param nowNanos {@link System#nanoTime()} at close
   * @param closedAt wall-clock time of the close
   */
  public static String format(Connection c, long nowNanos, Instant closedAt) {
    StringBuilder sb = new StringBuilder(512);
    sb.append('{');
    field(sb, "time", TIME.format(closedAt));
    field(sb, "id", c.id());
    field(sb, "listener", c.listener());
    SocketAddress client = c.client();
    if (client instanceof InetSocketAddress isa) {
      field(
          sb,
          "client",
          isa.getAddress() != null ? isa.getAddress().getHostAddress() : isa.getHostString());
      number(sb, "client_port", isa.getPort());
    } else {
      field(sb, "client", client == null ? null : client.toString());
      sb.append(",\"client_port\":null");
    }
    field(sb, "sni", c.sni());
    list(sb, "alpn_offered", c.alpn());
    number(sb, "alpn_offered_omitted", c.alpnOmitted());
    field(sb, "route", c.route());
    field(sb, "mode", c.mode() == null ? null : c.mode().configName());
    field(sb, "backend", c.backend());
    TlsSummary tls = c.tls();
    field(sb, "tls_version", tls == null ? null : tls.protocol());
    field(sb, "tls_cipher", tls == null ? null : tls.cipher());
    field(sb, "alpn", tls == null ? null : tls.alpn());
    field(sb, "client_cert", tls == null ? null : tls.clientSubject());
    number(sb, "bytes_from_client", c.bytesFromClient());
    number(sb, "bytes_from_backend", c.bytesFromBackend());
    millis(sb, "hello_ms", c.helloNanos());
    millis(sb, "handshake_ms", c.handshakeNanos());
    millis(sb, "connect_ms", c.connectNanos());
    millis(sb, "duration_ms", nowNanos - c.acceptedNanos());
    field(sb, "reason", c.reason().label());
    field(sb, "detail", c.reasonDetail());
    sb.append('}');
    return sb.toString();
  }

  private static void name(StringBuilder sb, String name) {
    if (sb.length() > 1) {
      sb.append(',');
    }
    sb.append('"').append(name).append("\":");
  }

  private static void field(StringBuilder sb, String name, String value) {
    name(sb, name);
    if (value == null) {
      sb.append("null");
    } else {
      string(sb, value.length() <= MAX_FIELD ? value : value.substring(0, MAX_FIELD) + "...");
    }
  }

  private static void number(StringBuilder sb, String name, long value) {
    name(sb, name);
    sb.append(value);
  }

  /** Milliseconds with microsecond precision, or null for a negative (unknown) duration. */
  private static void millis(StringBuilder sb, String name, long nanos) {
    name(sb, name);
    if (nanos < 0) {
      sb.append("null");
    } else {
      long micros = nanos / 1000;
      long frac = micros % 1000;
      sb.append(micros / 1000).append('.');
      if (frac < 100) {
        sb.append(frac < 10 ? "00" : "0");
      }
      sb.append(frac);
    }
  }

  private static void list(StringBuilder sb, String name, List<String> values) {
    name(sb, name);
    sb.append('[');
    for (int i = 0; i < values.size(); i++) {
      if (i > 0) {
        sb.append(',');
      }
      string(sb, values.get(i));
    }
    sb.append(']');
  }

  /** A JSON string (RFC 8259 §7). */
  static void string(StringBuilder sb, String s) {
    Json.string(sb, s);
  }
}
