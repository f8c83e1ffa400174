package io.tollgate.connection;

/**
 * Client-controlled text (SNI, ALPN names, certificate subjects, failure details) made safe for a
 * plain-text log line: a client must not be able to end the line, forge another one, or send escape
 * sequences to the operator's terminal. Control characters (C0, DEL, C1) become {@code \xNN}, the
 * Unicode line and paragraph separators and lone surrogates {@code \\uNNNN}, and the text is cut at
 * a length.
 */
public final class LogText {
  /** Longest value written for one field, in characters, before escaping. */
  public static final int MAX_FIELD = 512;

  private LogText() {}

  /** Appends {@code value} escaped and cut (with "..." and the length) at {@link #MAX_FIELD}. */
  public static StringBuilder append(StringBuilder sb, String value) {
    int n = Math.min(value.length(), MAX_FIELD);
    for (int i = 0; i < n; i++) {
      char c = value.charAt(i);
      if (c < 0x20 || (c >= 0x7f && c < 0xa0)) {
        sb.append("\\x")
            .append(Character.forDigit(c >> 4, 16))
            .append(Character.forDigit(c & 0xf, 16));
      } else if (Character.isHighSurrogate(c)
          && i + 1 < value.length()
          && Character.isLowSurrogate(value.charAt(i + 1))) {
        sb.append(c).append(value.charAt(++i));
      } else if (c == '\u2028' || c == '\u2029' || Character.isSurrogate(c)) {
        // Line/paragraph separators end lines in some viewers; a lone surrogate is not text.
        sb.append(String.format("\\u%04x", (int) c));
      } else {
        sb.append(c);
      }
    }
    if (value.length() > n) {
      sb.append("...(").append(value.length()).append(" chars)");
    }
    return sb;
  }
}
