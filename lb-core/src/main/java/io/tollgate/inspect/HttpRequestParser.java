package io.tollgate.inspect;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * Reads the head of a plain HTTP/1.x request (RFC 9112): the request line and header fields up to
 * the empty line, for an http listener to route by its {@code Host}. Pure: never consumes, never
 * throws, bounded by {@code maxHead} bytes.
 *
 * <p>Resumable like the ClientHello parser: {@link Progress} remembers how far the search for the
 * empty line got, so a client sending one byte at a time costs each byte once, not the whole buffer
 * per read. The head is parsed once, when it is whole.
 *
 * <p>Only what routing needs is checked strictly: one request line of three parts with version
 * HTTP/1.0 or HTTP/1.1, a target in origin-form ({@code /path}), absolute-form ({@code
 * http://host/path}, whose authority then wins over {@code Host}, RFC 9112 §3.2.2) or {@code *}
 * (OPTIONS), header field names that are tokens, no obsolete line folding, at most one {@code
 * Host}, and a valid host name in it. HTTP/1.1 requires a {@code Host} (RFC 9112 §3.2); HTTP/1.0
 * may leave it out. Bare LF line ends are accepted (RFC 9112 §2.2).
 */
public final class HttpRequestParser {
  private final int maxHead;

  /** Search state over the (append-only) buffer, one per connection. */
  public static final class Progress {
    int scanned;
  }

  /** The outcome of one {@link #parse} call. */
  public sealed interface Result permits NeedMore, Done, Failed {}

  /** The bytes so far may be the start of a head; call again with more. */
  public enum NeedMore implements Result {
    INSTANCE
  }

  /** The head is whole and valid. */
  public record Done(HttpRequestHead head) implements Result {}

  /**
   * The bytes cannot become a valid head, or it is too large.
   *
   * @param detail for logs: what was wrong, with at most a short escaped excerpt of client bytes
   */
  public record Failed(HttpRequestFailure failure, String detail) implements Result {}

  /**
   * @param maxHead the largest head accepted, in bytes
   */
  public HttpRequestParser(int maxHead) {
    if (maxHead < 16) {
      throw new IllegalArgumentException("maxHead too small: " + maxHead);
    }
    this.maxHead = maxHead;
  }

  public Result parse(ByteBuf in, Progress progress) {
    int base = in.readerIndex();
    int readable = in.readableBytes();
    if (readable == 0) {
      return NeedMore.INSTANCE;
    }
    if (progress.scanned == 0) {
      byte first = in.getByte(base);
      if (first < 'A' || first > 'Z') {
        return bad(
            first == 0x16
                ? "a TLS handshake on a plain-HTTP listener"
                : "not an HTTP request: starts with \""
                    + Excerpts.of(in, base, base + Math.min(readable, 16))
                    + "\"");
      }
    }
    int limit = Math.min(readable, maxHead);
    for (int i = progress.scanned; i < limit; i++) {
      if (in.getByte(base + i) != '\n') {
        continue;
      }
      // An empty line: "\n\n" or "\n\r\n" ends the head.
      if ((i >= 1 && in.getByte(base + i - 1) == '\n')
          || (i >= 2 && in.getByte(base + i - 1) == '\r' && in.getByte(base + i - 2) == '\n')) {
        progress.scanned = i + 1;
        return parseHead(in.toString(base, i + 1, StandardCharsets.ISO_8859_1));
      }
    }
    progress.scanned = limit;
    if (readable >= maxHead) {
      return new Failed(
          HttpRequestFailure.TOO_LARGE, "request head larger than " + maxHead + " bytes");
    }
    return NeedMore.INSTANCE;
  }

  private static Result parseHead(String head) {
    String[] lines = head.split("\n", -1);
    // The last two elements are the empty line and what follows its LF (nothing).
    String requestLine = stripCr(lines[0]);
    if (requestLine == null) {
      return bad("bare CR in the request line");
    }
    String[] parts = requestLine.split(" ", -1);
    if (parts.length != 3) {
      return bad("request line is not METHOD TARGET VERSION: \"" + excerpt(requestLine) + "\"");
    }
    String method = parts[0];
    String target = parts[1];
    String version = parts[2];
    if (!isToken(method)) {
      return bad("invalid method \"" + excerpt(method) + "\"");
    }
    if (!version.equals("HTTP/1.1") && !version.equals("HTTP/1.0")) {
      return bad("not HTTP/1.0 or HTTP/1.1: \"" + excerpt(version) + "\"");
    }
    if (target.isEmpty() || !isVisibleAscii(target)) {
      return bad("invalid request target \"" + excerpt(target) + "\"");
    }
    String hostValue = null;
    for (int i = 1; i < lines.length - 2; i++) {
      String line = stripCr(lines[i]);
      if (line == null) {
        return bad("bare CR in a header field");
      }
      if (line.startsWith(" ") || line.startsWith("\t")) {
        return bad("obsolete line folding"); // RFC 9112 §5.2: a server may reject it with 400
      }
      int colon = line.indexOf(':');
      if (colon <= 0 || !isToken(line.substring(0, colon))) {
        return bad("invalid header field \"" + excerpt(line) + "\"");
      }
      if (line.regionMatches(true, 0, "host", 0, 4) && colon == 4) {
        if (hostValue != null) {
          return bad("more than one Host"); // RFC 9112 §3.2
        }
        hostValue = trimOws(line.substring(colon + 1));
      }
    }
    String path;
    String authority;
    if (target.startsWith("/")) {
      path = target;
      authority = hostValue;
    } else if (target.equals("*") && method.equals("OPTIONS")) {
      path = "/";
      authority = hostValue;
    } else {
      int scheme = target.indexOf("://");
      String lower = target.toLowerCase(java.util.Locale.ROOT);
      if (!(lower.startsWith("http://") || lower.startsWith("https://"))) {
        return bad("unsupported request target \"" + excerpt(target) + "\"");
      }
      int slash = target.indexOf('/', scheme + 3);
      authority = slash < 0 ? target.substring(scheme + 3) : target.substring(scheme + 3, slash);
      path = slash < 0 ? "/" : target.substring(slash);
      int at = authority.lastIndexOf('@');
      if (at >= 0) {
        authority = authority.substring(at + 1);
      }
    }
    if (hostValue == null && version.equals("HTTP/1.1")) {
      return bad("HTTP/1.1 request without Host");
    }
    String host;
    try {
      host = authority == null || authority.isEmpty() ? null : hostName(authority);
    } catch (MalformedHelloException e) {
      return bad("invalid Host \"" + excerpt(authority) + "\"");
    }
    return new Done(new HttpRequestHead(method, path, host, head.length()));
  }

  /**
   * The normalised host name of {@code host[:port]}, or null for an IP address.
   *
   * @throws MalformedHelloException when it is not a valid host name or port
   */
  private static String hostName(String authority) {
    if (authority.startsWith("[")) {
      int close = authority.indexOf(']');
      if (close < 0 || !validPort(authority.substring(close + 1), true)) {
        throw new MalformedHelloException("invalid IPv6 literal");
      }
      return null; // an IP literal, like an IP in SNI: no name to route by
    }
    int colon = authority.lastIndexOf(':');
    String name = authority;
    if (colon >= 0) {
      if (!validPort(authority.substring(colon), true)) {
        throw new MalformedHelloException("invalid port");
      }
      name = authority.substring(0, colon);
    }
    return HostNames.normalise(name.getBytes(StandardCharsets.ISO_8859_1));
  }

  /** Empty, or ':' followed by 1..5 digits (an empty port is allowed, RFC 3986 §3.2.3). */
  private static boolean validPort(String s, boolean colonFirst) {
    if (s.isEmpty()) {
      return true;
    }
    if (colonFirst && s.charAt(0) != ':') {
      return false;
    }
    String digits = s.substring(1);
    if (digits.length() > 5) {
      return false;
    }
    for (int i = 0; i < digits.length(); i++) {
      if (digits.charAt(i) < '0' || digits.charAt(i) > '9') {
        return false;
      }
    }
    return true;
  }

  /** The line without its CR before LF; null when a CR stands anywhere else. */
  private static String stripCr(String line) {
    String s = line.endsWith("\r") ? line.substring(0, line.length() - 1) : line;
    return s.indexOf('\r') >= 0 ? null : s;
  }

  private static String trimOws(String s) {
    int from = 0;
    int to = s.length();
    while (from < to && (s.charAt(from) == ' ' || s.charAt(from) == '\t')) {
      from++;
    }
    while (to > from && (s.charAt(to - 1) == ' ' || s.charAt(to - 1) == '\t')) {
      to--;
    }
    return s.substring(from, to);
  }

  /** RFC 9110 §5.6.2 token. */
  private static boolean isToken(String s) {
    if (s.isEmpty()) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean ok =
          (c >= 'a' && c <= 'z')
              || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9')
              || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
      if (!ok) {
        return false;
      }
    }
    return true;
  }

  private static boolean isVisibleAscii(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x21 || c > 0x7e) {
        return false;
      }
    }
    return true;
  }

  private static String excerpt(String s) {
    return Excerpts.of(s.getBytes(StandardCharsets.ISO_8859_1));
  }

  private static Failed bad(String detail) {
    return new Failed(HttpRequestFailure.BAD_REQUEST, detail);
  }
}
