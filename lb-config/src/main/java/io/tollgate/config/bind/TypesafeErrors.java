package io.tollgate.config.bind;

import io.tollgate.config.ConfigError;
import io.tollgate.config.ConfigException;
import java.io.FileNotFoundException;
import java.nio.file.NoSuchFileException;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns a typesafe-config exception (missing file, syntax error, unresolvable substitution) into
 * one {@link ConfigError} an operator can act on: the location up front, then the message without
 * the origin typesafe already prefixed and without its Java exception names.
 */
final class TypesafeErrors {
  private static final Pattern OS_REASON = Pattern.compile("\\(([^()]+)\\)\\s*$");
  private static final Pattern IF_YOU_INTENDED =
      Pattern.compile("\\s*\\(if you intended .*$", Pattern.DOTALL);

  private TypesafeErrors() {}

  static ConfigException toException(com.typesafe.config.ConfigException e, String sourceName) {
    return new ConfigException(List.of(toError(e, sourceName)));
  }

  static ConfigError toError(com.typesafe.config.ConfigException e, String sourceName) {
    Origins.Location where = Origins.of(e.origin(), sourceName);
    String path = "";
    String message;
    String unreadable = e instanceof com.typesafe.config.ConfigException.IO ? unreadable(e) : null;
    if (unreadable != null) {
      message = unreadable + " (expected a readable HOCON config file)";
    } else {
      message = clean(e.getMessage(), e);
    }
    if (e instanceof com.typesafe.config.ConfigException.UnresolvedSubstitution) {
      message = message + " (set the environment variable, or write ${?NAME} to make it optional)";
    }
    return new ConfigError(where.toString(), path, message);
  }

  /**
   * "file not found", or "cannot read file: is a directory" and the like, from the JDK's
   * FileNotFoundException (whose message ends in the OS reason in parentheses); null if the IO
   * error has another cause.
   */
  private static String unreadable(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof NoSuchFileException) {
        return "file not found";
      }
      if (t instanceof FileNotFoundException) {
        Matcher m = OS_REASON.matcher(String.valueOf(t.getMessage()));
        if (!m.find() || m.group(1).equalsIgnoreCase("No such file or directory")) {
          return "file not found";
        }
        return "cannot read file: " + m.group(1).toLowerCase(Locale.ROOT);
      }
    }
    return null;
  }

  /** Strips typesafe's {@code "origin: line: "} prefix and exception class names. */
  static String clean(String message, com.typesafe.config.ConfigException e) {
    String m = message == null ? e.getClass().getSimpleName() : message;
    if (e.origin() != null) {
      String prefix = e.origin().description() + ": ";
      if (m.startsWith(prefix)) {
        m = m.substring(prefix.length());
      }
    }
    // Some wrap a Java exception: "...: java.io.IOException: detail" reads as noise.
    // Advice about renaming the file to .properties does not apply: Tollgate reads HOCON only.
    m = IF_YOU_INTENDED.matcher(m).replaceFirst("");
    m = m.replaceAll("\\b(?:java|javax|com\\.typesafe)\\.[\\w.$]+(?:Exception|Error): ", "");
    return m.trim();
  }
}
