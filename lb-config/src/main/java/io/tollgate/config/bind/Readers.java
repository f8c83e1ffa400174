package io.tollgate.config.bind;

import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueType;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.stream.Collectors;

/**
 * Typed reads of one {@link Node} each. A read that fails records an error on the node (what was
 * found, what was expected) and returns empty, so the caller carries on and later errors are still
 * found. An absent node is not an error here; {@link #required} is for keys that must be present.
 */
final class Readers {
  private Readers() {}

  /** Reports a missing required key (at the enclosing object's line); true if present. */
  static boolean required(Node node, Schema.Key key) {
    if (node.exists()) {
      return true;
    }
    node.error("missing required key \"" + key.name() + "\" (expected " + key.expected() + ")");
    return false;
  }

  /**
   * The node if it is an object whose keys all belong to {@code shape}; reports each unknown key
   * (with a did-you-mean hint) but still returns the object so its known keys get checked.
   */
  static Optional<Node> object(Node node, Schema.Shape shape, String expected) {
    if (!node.exists()) {
      return Optional.empty();
    }
    if (node.type() != ConfigValueType.OBJECT) {
      node.error(wrongType(node, expected));
      return Optional.empty();
    }
    for (String key : node.keys()) {
      if (!shape.recognises(key)) {
        node.child(key).error(unknownKey(key, shape));
      }
    }
    return Optional.of(node);
  }

  static String unknownKey(String key, Schema.Shape shape) {
    String hint = DidYouMean.hint(key, shape.names());
    if (!hint.isEmpty()) {
      return "unknown key \"" + key + "\" in " + shape.what() + hint;
    }
    return "unknown key \""
        + key
        + "\" in "
        + shape.what()
        + " (expected one of: "
        + String.join(", ", shape.names())
        + ")";
  }

  /** The elements if the node is a list. */
  static Optional<List<Node>> list(Node node, Schema.Key key) {
    if (!node.exists()) {
      return Optional.empty();
    }
    if (node.type() != ConfigValueType.LIST) {
      node.error(wrongType(node, key.expected()));
      return Optional.empty();
    }
    return Optional.of(node.elements());
  }

  /** A string; unquoted numbers and booleans count, as typesafe-config's getString allows. */
  static Optional<String> string(Node node, Schema.Key key) {
    if (!node.exists()) {
      return Optional.empty();
    }
    return switch (node.type()) {
      case STRING -> Optional.of((String) node.value().unwrapped());
      case NUMBER, BOOLEAN -> Optional.of(node.value().render());
      default -> {
        node.error(wrongType(node, key.expected()));
        yield Optional.empty();
      }
    };
  }

  /**
   * {@code true} or {@code false}; as typesafe-config's getBoolean, quoted values and the spellings
   * yes/no and on/off count too.
   */
  static Optional<Boolean> bool(Node node, Schema.Key key) {
    if (!node.exists()) {
      return Optional.empty();
    }
    try {
      return Optional.of(ConfigFactory.empty().withValue("v", node.value()).getBoolean("v"));
    } catch (com.typesafe.config.ConfigException e) {
      node.error(wrongType(node, key.expected()));
      return Optional.empty();
    }
  }

  /** A whole number in {@code min..max}; a quoted number counts, as in typesafe-config. */
  static OptionalInt intInRange(Node node, Schema.Key key, int min, int max) {
    if (!node.exists()) {
      return OptionalInt.empty();
    }
    String range = min + ".." + max;
    Long n = wholeNumber(node);
    if (n == null) {
      node.error(node.show() + " is not a whole number (expected " + range + ")");
      return OptionalInt.empty();
    }
    if (n < min || n > max) {
      node.error(node.show() + " is out of range (expected " + range + ")");
      return OptionalInt.empty();
    }
    return OptionalInt.of(n.intValue());
  }

  /**
   * {@code auto} (any case) or a whole number in {@code min..max}: {@code auto} reads as {@code
   * autoValue}.
   */
  static OptionalInt autoOrIntInRange(Node node, Schema.Key key, int min, int max, int autoValue) {
    if (node.exists()
        && node.value().unwrapped() instanceof String s
        && !s.trim().matches("-?[0-9]+")) {
      if (s.trim().toLowerCase(java.util.Locale.ROOT).equals(Schema.AUTO)) {
        return OptionalInt.of(autoValue);
      }
      node.error(node.show() + " is neither auto nor a number (expected " + key.expected() + ")");
      return OptionalInt.empty();
    }
    return intInRange(node, key, min, max);
  }

  /** The value as a long if it is an integral number (or a string holding one), else null. */
  private static Long wholeNumber(Node node) {
    Object raw = node.value().unwrapped();
    if (raw instanceof Integer || raw instanceof Long) {
      return ((Number) raw).longValue();
    }
    if (raw instanceof Double d) {
      // 3.0 is fine; 2.5 is not, and neither is anything beyond long.
      return d == Math.rint(d) && Math.abs(d) < 1e15 ? (long) d.doubleValue() : null;
    }
    if (raw instanceof String s) {
      try {
        return Long.parseLong(s.trim());
      } catch (NumberFormatException e) {
        return null;
      }
    }
    return null;
  }

  /** A duration greater than zero; HOCON units (ms, s, m, h, d), a bare number means ms. */
  static Optional<Duration> positiveDuration(Node node, Schema.Key key) {
    Optional<Duration> d = duration(node, key);
    if (d.isPresent() && (d.get().isZero() || d.get().isNegative())) {
      node.error(node.show() + " is not positive (expected " + key.expected() + ")");
      return Optional.empty();
    }
    return d;
  }

  /** A duration of zero or more (zero turns the feature off, e.g. slow-start). */
  static Optional<Duration> nonNegativeDuration(Node node, Schema.Key key) {
    Optional<Duration> d = duration(node, key);
    if (d.isPresent() && d.get().isNegative()) {
      node.error(node.show() + " is negative (expected " + key.expected() + ")");
      return Optional.empty();
    }
    return d;
  }

  private static Optional<Duration> duration(Node node, Schema.Key key) {
    if (!node.exists()) {
      return Optional.empty();
    }
    try {
      return Optional.of(ConfigFactory.empty().withValue("v", node.value()).getDuration("v"));
    } catch (com.typesafe.config.ConfigException e) {
      node.error(
          node.show()
              + " is not a duration (expected "
              + key.expected()
              + "; units: ms, s, m, h, d)");
      return Optional.empty();
    }
  }

  /**
   * A size in bytes within {@code min..max}; HOCON byte units, where {@code k}/{@code K}/{@code
   * KiB} are 1024 and {@code kB} is 1000.
   */
  static OptionalLong bytesInRange(
      Node node, Schema.Key key, long min, long max, String rangeText) {
    if (!node.exists()) {
      return OptionalLong.empty();
    }
    long n;
    try {
      n = ConfigFactory.empty().withValue("v", node.value()).getBytes("v");
    } catch (com.typesafe.config.ConfigException e) {
      node.error(
          node.show() + " is not a size (expected " + key.expected() + ", " + rangeText + ")");
      return OptionalLong.empty();
    }
    if (n < min || n > max) {
      node.error(node.show() + " is out of range (expected " + rangeText + ")");
      return OptionalLong.empty();
    }
    return OptionalLong.of(n);
  }

  /**
   * One constant of {@code type}, spelled as its config name (lower case, '-' for '_', or the
   * constant's own {@link io.tollgate.config.NamedInConfig} name, where io-uring is io_uring too),
   * any case. {@code what} names the setting in the message: {@code "x" is not a valid transport}.
   */
  static <E extends Enum<E>> Optional<E> choice(
      Node node, Schema.Key key, Class<E> type, String what) {
    Optional<String> text = string(node, key);
    if (text.isEmpty()) {
      return Optional.empty();
    }
    String wanted = text.get().trim().toLowerCase(Locale.ROOT);
    for (E constant : type.getEnumConstants()) {
      if (configName(constant).equals(wanted) || sameWithADash(constant, wanted)) {
        return Optional.of(constant);
      }
    }
    List<String> valid =
        Arrays.stream(type.getEnumConstants())
            .map(Readers::configName)
            .collect(Collectors.toUnmodifiableList());
    node.error(
        node.show()
            + " is not a valid "
            + what
            + " (expected one of: "
            + String.join(", ", valid)
            + ")"
            + DidYouMean.hint(wanted, valid));
    return Optional.empty();
  }

  /** io-uring for io_uring: dashes are every other key's spelling. */
  private static boolean sameWithADash(Enum<?> constant, String wanted) {
    return constant instanceof io.tollgate.config.NamedInConfig named
        && named.configName().replace('_', '-').equals(wanted);
  }

  static String configName(Enum<?> constant) {
    if (constant instanceof io.tollgate.config.NamedInConfig named) {
      return named.configName();
    }
    return constant.name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  static String wrongType(Node node, String expected) {
    return "expected "
        + expected
        + ", got "
        + node.kind()
        + (node.type() == ConfigValueType.STRING || node.type() == ConfigValueType.NUMBER
            ? " " + node.show()
            : "");
  }
}
