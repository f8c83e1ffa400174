package io.tollgate.config;

import java.io.FileNotFoundException;
import java.nio.file.NoSuchFileException;
import java.util.List;

/**
 * Turns a typesafe-config exception (missing file, syntax error, unresolvable substitution) into
 * one {@link ConfigError} an operator can act on: the location up front, then the message
 * without the origin typesafe already prefixed and without its Java exception names.
 */
final class TypesafeErrors {
  private TypesafeErrors() {}

  static ConfigException toException(com.typesafe.config.ConfigException e, String sourceName) {
    return new ConfigException(List.of(toError(e, sourceName)));
  }

  static ConfigError toError(com.typesafe.config.ConfigException e, String sourceName) {
    Origins.Location where = Origins.of(e.origin(), sourceName);
    String path = "";
    String message;
    if (e instanceof com.typesafe.config.ConfigException.IO && isNotFound(e)) {
      message = "file not found (expected a readable HOCON config file)";
    } else {
      message = clean(e.getMessage(), e);
    }
    if (e instanceof com.typesafe.config.ConfigException.UnresolvedSubstitution) {
      message = message + " (set the environment variable, or write ${?NAME} to make it optional)";
    }
    return new ConfigError(where.toString(), path, message);
  }

  private static boolean isNotFound(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof FileNotFoundException || t instanceof NoSuchFileException) {
        return true;
      }
    }
    return false;
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
    m = m.replaceAll("\\b(?:java|javax|com\\.typesafe)\\.[\\w.$]+(?:Exception|Error): ", "");
    return m.trim();
  }
}
