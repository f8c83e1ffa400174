package io.tollgate.config.bind;

import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigOrigin;
import com.typesafe.config.ConfigValue;
import java.util.List;

/**
 * Says where in the user's file a config path was written, as {@code file:line}.
 *
 * <p>Positions are looked up in the user's own parse tree, before defaults are merged in and
 * substitutions resolved: objects merged with {@code reference.conf} carry a blended origin ("merge
 * of ...") with no usable file name, and a value pulled in by {@code ${?VAR}} would otherwise point
 * at the environment instead of the line that asked for it. A path the user did not write (a
 * missing key) resolves to the closest enclosing object they did write.
 */
final class Origins {
  private final ConfigObject userRoot;
  private final String sourceName;

  /**
   * @param userRoot the user's document as parsed, unresolved
   * @param sourceName how to name that document when typesafe-config has no file name for it
   */
  Origins(ConfigObject userRoot, String sourceName) {
    this.userRoot = userRoot;
    this.sourceName = sourceName;
  }

  /** Where the deepest written prefix of {@code segments} (String keys, Integer indices) is. */
  Location locate(List<Object> segments) {
    ConfigValue current = userRoot;
    for (Object segment : segments) {
      ConfigValue next = step(current, segment);
      if (next == null) {
        break;
      }
      current = next;
    }
    return of(current.origin(), sourceName);
  }

  private static ConfigValue step(ConfigValue current, Object segment) {
    try {
      if (segment instanceof String key && current instanceof ConfigObject object) {
        return object.get(key);
      }
      if (segment instanceof Integer index && current instanceof ConfigList list) {
        return index < list.size() ? list.get(index) : null;
      }
    } catch (com.typesafe.config.ConfigException e) {
      // An unresolved merge (e.g. an object built from a substitution) cannot be walked into;
      // the enclosing position is the best we can do.
      return null;
    }
    return null;
  }

  /** A typesafe origin as a location; {@code fallbackName} when it has no file or resource. */
  static Location of(ConfigOrigin origin, String fallbackName) {
    String name = origin == null ? null : origin.filename();
    if (name == null && origin != null) {
      name = origin.resource();
    }
    if (name == null) {
      name = fallbackName;
    }
    int line = origin == null ? -1 : origin.lineNumber();
    return new Location(name, line);
  }

  /** A file (as the user named it) and a 1-based line, or -1 when the line is unknown. */
  record Location(String file, int line) {
    @Override
    public String toString() {
      return line > 0 ? file + ":" + line : file;
    }
  }
}
