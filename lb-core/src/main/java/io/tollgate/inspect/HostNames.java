package io.tollgate.inspect;

import java.util.Locale;

/**
 * Normalises and validates the SNI host_name (RFC 6066 §3): ASCII only (IDNs arrive as A-labels),
 * lower-cased, one trailing dot removed. IP literals yield {@code null}: RFC 6066 §3 says "Literal
 * IPv4 and IPv6 addresses are not permitted in HostName", and real clients never send them, so such
 * a hello is routed as if it had no SNI rather than rejected.
 */
final class HostNames {
  /** RFC 1035 §2.3.4: 255 octets on the wire, i.e. 253 characters in dotted form. */
  static final int MAX_NAME = 253;

  /** RFC 1035 §2.3.4. */
  static final int MAX_LABEL = 63;

  private HostNames() {}

  /**
   * Returns the normalised name, or {@code null} for an IP literal.
   *
   * @throws MalformedHelloException if the name is not a valid host name
   */
  static String normalise(byte[] raw) {
    for (byte b : raw) {
      if (b < 0x21 || b > 0x7e) { // negative bytes (non-ASCII) included
        throw bad("non-ASCII or control character", raw);
      }
    }
    String name =
        new String(raw, java.nio.charset.StandardCharsets.US_ASCII).toLowerCase(Locale.ROOT);
    if (name.endsWith(".")) {
      name = name.substring(0, name.length() - 1);
    }
    if (name.indexOf(':') >= 0 || isDottedQuad(name)) {
      return null; // IPv6 (possibly bracketed) or IPv4 literal: treated as no SNI, see class doc
    }
    if (name.isEmpty()) {
      throw bad("empty name", raw);
    }
    if (name.length() > MAX_NAME) {
      throw bad("name longer than " + MAX_NAME + " characters", raw);
    }
    int labelStart = 0;
    for (int i = 0; i <= name.length(); i++) {
      if (i == name.length() || name.charAt(i) == '.') {
        checkLabel(name, labelStart, i, raw);
        labelStart = i + 1;
      } else {
        char c = name.charAt(i);
        boolean ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
        if (!ok) {
          throw bad("invalid character '" + c + "'", raw);
        }
      }
    }
    return name;
  }

  private static void checkLabel(String name, int from, int to, byte[] raw) {
    if (from == to) {
      throw bad("empty label", raw);
    }
    if (to - from > MAX_LABEL) {
      throw bad("label longer than " + MAX_LABEL + " characters", raw);
    }
    if (name.charAt(from) == '-' || name.charAt(to - 1) == '-') {
      throw bad("label starts or ends with '-'", raw);
    }
  }

  /** Four decimal labels of 0..255, e.g. {@code 192.0.2.1}. Scans in place: runs per hello. */
  static boolean isDottedQuad(String name) {
    int labels = 0;
    int value = 0;
    int digits = 0;
    for (int i = 0; i <= name.length(); i++) {
      char c = i == name.length() ? '.' : name.charAt(i);
      if (c == '.') {
        if (digits == 0 || value > 255 || ++labels > 4) {
          return false;
        }
        value = 0;
        digits = 0;
      } else if (c >= '0' && c <= '9' && digits < 3) {
        value = value * 10 + (c - '0');
        digits++;
      } else {
        return false;
      }
    }
    return labels == 4;
  }

  private static MalformedHelloException bad(String why, byte[] raw) {
    return new MalformedHelloException(
        "invalid SNI host_name (" + why + "): \"" + Excerpts.of(raw) + "\"");
  }
}
