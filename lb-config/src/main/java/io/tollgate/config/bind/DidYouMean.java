package io.tollgate.config.bind;

import java.util.Collection;
import java.util.Locale;
import java.util.Optional;

/**
 * Finds the known name an operator most likely meant when they typed an unknown one, so an error
 * can say {@code did you mean "connect"?} instead of only listing every valid key.
 */
final class DidYouMean {
  /** Edits beyond this are more likely a different word than a typo. */
  static final int MAX_DISTANCE = 2;

  /** Shorter inputs match too many names by substring to be a useful hint. */
  private static final int MIN_SUBSTRING_LENGTH = 3;

  private DidYouMean() {}

  /**
   * The closest candidate: smallest edit distance (at most {@link #MAX_DISTANCE}), else one that
   * starts with, ends with or contains the input (or the other way round). Case is ignored.
   */
  static Optional<String> suggest(String input, Collection<String> candidates) {
    String in = input.toLowerCase(Locale.ROOT);
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String candidate : candidates) {
      int d = distance(in, candidate.toLowerCase(Locale.ROOT));
      if (d <= MAX_DISTANCE && d < bestDistance) {
        best = candidate;
        bestDistance = d;
      }
    }
    if (best != null) {
      return Optional.of(best);
    }
    if (in.length() < MIN_SUBSTRING_LENGTH) {
      return Optional.empty();
    }
    for (String candidate : candidates) {
      String c = candidate.toLowerCase(Locale.ROOT);
      if (c.contains(in) || (c.length() >= MIN_SUBSTRING_LENGTH && in.contains(c))) {
        return Optional.of(candidate);
      }
    }
    return Optional.empty();
  }

  /** Levenshtein distance (insert, delete, substitute each cost 1). */
  static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int substitute = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        cur[j] = Math.min(substitute, Math.min(prev[j] + 1, cur[j - 1] + 1));
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }

  /** {@code (did you mean "x"?)} with a leading space, or "" when nothing is close. */
  static String hint(String input, Collection<String> candidates) {
    return suggest(input, candidates).map(s -> " (did you mean \"" + s + "\"?)").orElse("");
  }
}
