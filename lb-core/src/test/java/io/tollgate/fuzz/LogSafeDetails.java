package io.tollgate.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Failure details end up in debug lines and the access log: they may quote the client only as a
 * short escaped excerpt (ParseResult.Failed's contract), never raw bytes that could forge or flood
 * a log line.
 */
final class LogSafeDetails {
  /** Longest detail seen from real prefixes plus a 64-character excerpt is about 330. */
  static final int MAX_LENGTH = 512;

  private LogSafeDetails() {}

  static void check(String detail, String what) {
    assertThat(detail).as(what).isNotNull();
    assertThat(detail.length()).as("%s length: %s", what, detail).isLessThanOrEqualTo(MAX_LENGTH);
    for (int i = 0; i < detail.length(); i++) {
      char c = detail.charAt(i);
      if (c < 0x20 || c > 0x7e) {
        throw new AssertionError(
            what
                + " has raw character 0x"
                + Integer.toHexString(c)
                + " at "
                + i
                + ": "
                + detail.replaceAll("[^\\x20-\\x7e]", "?"));
      }
    }
  }
}
