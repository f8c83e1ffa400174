package io.tollgate.config.bind;

import java.util.Locale;

/**
 * Normalises and checks the host patterns of a route: exact DNS names ({@code pass.test}) and
 * single-label wildcards ({@code *.wild.test}).
 *
 * <p>Names are matched against SNI, which is case-insensitive and never carries a trailing dot (RFC
 * 6066), so patterns are stored lower case without one; then equal patterns are equal strings and
 * duplicates are easy to spot.
 */
final class HostPatterns {
  static final int MAX_NAME_LENGTH = 253;
  static final int MAX_LABEL_LENGTH = 63;

  private HostPatterns() {}

  /** Lower case, with one trailing dot removed. */
  static String normalise(String raw) {
    String s = raw.trim().toLowerCase(Locale.ROOT);
    return s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
  }

  /**
   * Why a normalised pattern is not valid, or {@code null} if it is.
   *
   * @param pattern output of {@link #normalise}
   */
  static String problem(String pattern) {
    if (pattern.isEmpty()) {
      return "is empty (expected a host name such as example.com, or *.example.com)";
    }
    if (looksLikeIpAddress(pattern)) {
      return "is an IP address; SNI never carries IP addresses (RFC 6066), so no route can match"
          + " it (expected a host name; clients that connect by IP go to default-route)";
    }
    if (pattern.startsWith("*.")) {
      String rest = pattern.substring(2);
      String why = nameProblem(rest);
      if (why != null) {
        return "is not a valid wildcard: "
            + why
            + " (expected *. followed by a host name, e.g."
            + " *.example.com)";
      }
      return null;
    }
    if (pattern.indexOf('*') >= 0) {
      return "is not a valid wildcard (expected * only as the whole first label followed by a"
          + " host name, e.g. *.example.com)";
    }
    String why = nameProblem(pattern);
    return why == null ? null : "is not a valid host name: " + why;
  }

  /** Why {@code name} is not a DNS name, or {@code null} if it is one. */
  private static String nameProblem(String name) {
    if (name.isEmpty()) {
      return "nothing follows the *.";
    }
    if (name.length() > MAX_NAME_LENGTH) {
      return "longer than " + MAX_NAME_LENGTH + " characters";
    }
    for (String label : name.split("\\.", -1)) {
      if (label.isEmpty()) {
        return "has an empty label (two dots in a row, or a leading dot)";
      }
      if (label.length() > MAX_LABEL_LENGTH) {
        return "label \"" + label + "\" is longer than " + MAX_LABEL_LENGTH + " characters";
      }
      if (label.startsWith("-") || label.endsWith("-")) {
        return "label \"" + label + "\" starts or ends with '-'";
      }
      for (int i = 0; i < label.length(); i++) {
        char c = label.charAt(i);
        boolean ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
        if (!ok) {
          return "label \""
              + label
              + "\" contains '"
              + c
              + "' (expected letters, digits, '-' or"
              + " '_')";
        }
      }
    }
    return null;
  }

  /** Dotted-quad IPv4, or anything with a colon (IPv6, possibly bracketed). */
  static boolean looksLikeIpAddress(String s) {
    if (s.indexOf(':') >= 0 || s.startsWith("[")) {
      return true;
    }
    String[] parts = s.split("\\.", -1);
    if (parts.length != 4) {
      return false;
    }
    for (String p : parts) {
      if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(Character::isDigit)) {
        return false;
      }
    }
    return true;
  }
}
