package io.tollgate.config.bind;

import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A position in the loaded (merged, resolved) config: the value there, or none, and the path that
 * leads to it. Errors are reported against a node so each one carries the right {@code file:line}
 * and key path without the binders having to track either.
 */
final class Node {
  private static final Pattern PLAIN_KEY = Pattern.compile("[A-Za-z0-9_-]+");

  private final Problems problems;
  private final ConfigValue value;
  private final List<Object> segments;

  private Node(Problems problems, ConfigValue value, List<Object> segments) {
    this.problems = problems;
    this.value = value;
    this.segments = segments;
  }

  /** The node at top-level key {@code key} of {@code root}. */
  static Node root(Problems problems, ConfigObject root, String key) {
    return new Node(problems, root.get(key), List.of(key));
  }

  /** Errors and warnings reported so far, through any node. */
  int problemCount() {
    return problems.count();
  }

  /** The value, or {@code null} if the key is absent. */
  ConfigValue value() {
    return value;
  }

  boolean exists() {
    return value != null;
  }

  ConfigValueType type() {
    return value == null ? null : value.valueType();
  }

  /** The key this node sits under, or "" for list elements. */
  String key() {
    Object last = segments.get(segments.size() - 1);
    return last instanceof String s ? s : "";
  }

  /** The child under {@code key}; absent if this is not an object or has no such key. */
  Node child(String key) {
    ConfigValue v = value instanceof ConfigObject o ? o.get(key) : null;
    return new Node(problems, v, append(key));
  }

  /** The keys of this object, sorted; empty if not an object. */
  List<String> keys() {
    if (!(value instanceof ConfigObject o)) {
      return List.of();
    }
    List<String> keys = new ArrayList<>(o.keySet());
    // typesafe-config keeps keys in a hash map; sorting keeps results and messages stable.
    Collections.sort(keys);
    return keys;
  }

  /** The elements of this list; empty if not a list. */
  List<Node> elements() {
    if (!(value instanceof ConfigList list)) {
      return List.of();
    }
    List<Node> out = new ArrayList<>(list.size());
    for (int i = 0; i < list.size(); i++) {
      out.add(new Node(problems, list.get(i), append(i)));
    }
    return out;
  }

  /** The element at {@code index} of this list (which must be one). */
  Node element(int index) {
    return new Node(problems, ((ConfigList) value).get(index), append(index));
  }

  /** The key path with list indices, e.g. {@code tollgate.pools.web.servers[1]}. */
  String path() {
    StringBuilder sb = new StringBuilder();
    for (Object segment : segments) {
      if (segment instanceof Integer i) {
        sb.append('[').append(i).append(']');
      } else {
        String key = (String) segment;
        if (sb.length() > 0) {
          sb.append('.');
        }
        sb.append(PLAIN_KEY.matcher(key).matches() ? key : "\"" + key.replace("\"", "\\\"") + "\"");
      }
    }
    return sb.toString();
  }

  /** Where the user wrote this node, or the nearest enclosing object they wrote. */
  Origins.Location location() {
    return problems.origins().locate(segments);
  }

  /** Records an error at this node. */
  void error(String message) {
    problems.add(location(), path(), message);
  }

  /** Records a warning at this node: allowed, but probably not what the operator meant. */
  void warn(String message) {
    problems.warn(location(), path(), message);
  }

  /** How this value looks in a message: strings quoted, numbers as written, else its kind. */
  String show() {
    if (value == null) {
      return "nothing";
    }
    return switch (value.valueType()) {
      case STRING -> "\"" + value.unwrapped() + "\"";
      case NUMBER, BOOLEAN -> value.render();
      default -> kind();
    };
  }

  /** "a string", "an object"... for "got ..." in type errors. */
  String kind() {
    if (value == null) {
      return "nothing";
    }
    return switch (value.valueType()) {
      case OBJECT -> "an object";
      case LIST -> "a list";
      case STRING -> "a string";
      case NUMBER -> "a number";
      case BOOLEAN -> "a boolean";
      case NULL -> "null";
    };
  }

  private List<Object> append(Object segment) {
    List<Object> s = new ArrayList<>(segments.size() + 1);
    s.addAll(segments);
    s.add(segment);
    return Collections.unmodifiableList(s);
  }
}
