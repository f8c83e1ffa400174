package io.tollgate.health;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tollgate.config.HealthCheckConfig;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The HTTP half of an http or https check: the request it sends, and whether the response matches:
 * a status in {@code expect-status}, and {@code expect-body} in the body if set. Reads at most
 * {@link #MAX_RESPONSE_BYTES}; decides as soon as it can, or when the input ends.
 */
final class HttpCheck {
  /** Most response bytes an HTTP probe reads looking for the status and expected body. */
  static final int MAX_RESPONSE_BYTES = 64 * 1024 + 8 * 1024;

  /**
   * Where an HTTP probe's response buffer starts; it grows (up to {@link #MAX_RESPONSE_BYTES}) only
   * for the rare large response, so a probe does not allocate 72 KiB for a status line.
   */
  static final int INITIAL_RESPONSE_BYTES = 2 * 1024;

  private static final byte[] CRLF = {'\r', '\n'};
  private static final byte[] CRLF_CRLF = {'\r', '\n', '\r', '\n'};

  private final HealthCheckConfig check;
  private final byte[] request;

  /** {@code expect-body} as UTF-8, or null. */
  private final byte[] expectBody;

  /**
   * @param hostHeader the request's Host header
   */
  HttpCheck(HealthCheckConfig check, String hostHeader) {
    this.check = check;
    this.request =
        ("GET "
                + check.path()
                + " HTTP/1.1\r\nHost: "
                + hostHeader
                + "\r\nUser-Agent: tollgate-health-check\r\nAccept: */*\r\nConnection: close\r\n\r\n")
            .getBytes(StandardCharsets.ISO_8859_1);
    this.expectBody = check.expectBody().map(b -> b.getBytes(StandardCharsets.UTF_8)).orElse(null);
  }

  /** The request, for one connection (the array is shared, not copied). */
  ByteBuf request() {
    return Unpooled.wrappedBuffer(request);
  }

  /** One connection's response, read as it arrives. */
  Response newResponse() {
    return new Response();
  }

  /** The bytes of one response so far and what is known of them; not thread-safe. */
  final class Response {
    private byte[] bytes = new byte[INITIAL_RESPONSE_BYTES];
    private int length;
    private int status = -1;

    /** Adds {@code buf}'s readable bytes (up to the limit); the result once known, else null. */
    Probe.Result read(ByteBuf buf) {
      int n = Math.min(buf.readableBytes(), MAX_RESPONSE_BYTES - length);
      if (length + n > bytes.length) {
        bytes =
            Arrays.copyOf(
                bytes, Math.min(MAX_RESPONSE_BYTES, Math.max(length + n, 2 * bytes.length)));
      }
      buf.readBytes(bytes, length, n);
      length += n;
      return evaluate(false);
    }

    /** The input ended: the result from what came. */
    Probe.Result end() {
      return evaluate(true);
    }

    /** Decides once the status line (and, if asked for, the body) is in, or the input ended. */
    private Probe.Result evaluate(boolean ended) {
      if (status < 0) {
        int eol = indexOf(bytes, length, CRLF, 0);
        if (eol < 0) {
          if (ended || length == MAX_RESPONSE_BYTES) {
            return Probe.Result.fail(
                length == 0 ? "connection closed before a response" : "not an HTTP response");
          }
          return null;
        }
        String line = new String(bytes, 0, eol, StandardCharsets.ISO_8859_1);
        status = parseStatus(line);
        if (status < 0) {
          return Probe.Result.fail(
              "not an HTTP response: \"" + ProbeFailures.abbreviate(line) + "\"");
        }
        if (status < check.expectStatusMin() || status > check.expectStatusMax()) {
          return Probe.Result.fail("status " + status);
        }
        if (expectBody == null) {
          return Probe.Result.ok("status " + status);
        }
      }
      int headerEnd = indexOf(bytes, length, CRLF_CRLF, 0);
      if (headerEnd >= 0 && indexOf(bytes, length, expectBody, headerEnd + 4) >= 0) {
        return Probe.Result.ok(
            "status " + status + ", body has \"" + check.expectBody().get() + "\"");
      } else if (ended || length == MAX_RESPONSE_BYTES) {
        return Probe.Result.fail(
            "status "
                + status
                + " but the body does not contain \""
                + check.expectBody().get()
                + "\"");
      }
      return null;
    }
  }

  /** {@code HTTP/1.1 200 OK} -> 200; -1 if the line is not a status line. */
  static int parseStatus(String line) {
    if (!line.startsWith("HTTP/") || line.length() < 12) {
      return -1;
    }
    int sp = line.indexOf(' ');
    if (sp < 0 || sp + 4 > line.length()) {
      return -1;
    }
    String code = line.substring(sp + 1, sp + 4);
    if (!code.chars().allMatch(Character::isDigit)
        || (line.length() > sp + 4 && line.charAt(sp + 4) != ' ')) {
      return -1;
    }
    return Integer.parseInt(code);
  }

  static int indexOf(byte[] haystack, int length, byte[] needle, int from) {
    outer:
    for (int i = Math.max(0, from); i + needle.length <= length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
