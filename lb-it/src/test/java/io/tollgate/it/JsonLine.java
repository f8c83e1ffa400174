package io.tollgate.it;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parses one flat JSON object as the access log writes it: string, number and null values and
 * arrays of strings. Throws on anything else, so a malformed line fails the test.
 */
final class JsonLine {
  private final String s;
  private int i;

  private JsonLine(String s) {
    this.s = s;
  }

  static Map<String, Object> parse(String line) {
    JsonLine p = new JsonLine(line.trim());
    Map<String, Object> out = p.object();
    if (p.i != p.s.length()) {
      throw new IllegalArgumentException("trailing text at " + p.i + ": " + line);
    }
    return out;
  }

  private Map<String, Object> object() {
    expect('{');
    Map<String, Object> out = new LinkedHashMap<>();
    if (peek() == '}') {
      i++;
      return out;
    }
    while (true) {
      String key = string();
      expect(':');
      if (out.put(key, value()) != null) {
        throw new IllegalArgumentException("duplicate key " + key);
      }
      char c = s.charAt(i++);
      if (c == '}') {
        return out;
      }
      if (c != ',') {
        throw new IllegalArgumentException("expected , or } at " + (i - 1) + ": " + s);
      }
    }
  }

  private Object value() {
    char c = peek();
    if (c == '"') {
      return string();
    }
    if (c == '[') {
      i++;
      List<String> list = new ArrayList<>();
      if (peek() == ']') {
        i++;
        return list;
      }
      while (true) {
        list.add(string());
        char n = s.charAt(i++);
        if (n == ']') {
          return list;
        }
        if (n != ',') {
          throw new IllegalArgumentException("bad array at " + i + ": " + s);
        }
      }
    }
    if (s.startsWith("null", i)) {
      i += 4;
      return null;
    }
    int start = i;
    while (i < s.length() && "-+.eE0123456789".indexOf(s.charAt(i)) >= 0) {
      i++;
    }
    if (start == i) {
      throw new IllegalArgumentException("bad value at " + i + ": " + s);
    }
    return Double.parseDouble(s.substring(start, i));
  }

  private String string() {
    expect('"');
    StringBuilder sb = new StringBuilder();
    while (true) {
      char c = s.charAt(i++);
      if (c == '"') {
        return sb.toString();
      }
      if (c < 0x20) {
        throw new IllegalArgumentException("raw control character in string: " + s);
      }
      if (c == '\\') {
        char e = s.charAt(i++);
        switch (e) {
          case 'n' -> sb.append('\n');
          case 'r' -> sb.append('\r');
          case 't' -> sb.append('\t');
          case 'u' -> {
            sb.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
            i += 4;
          }
          default -> sb.append(e);
        }
      } else {
        sb.append(c);
      }
    }
  }

  private char peek() {
    return s.charAt(i);
  }

  private void expect(char c) {
    if (s.charAt(i) != c) {
      throw new IllegalArgumentException("expected " + c + " at " + i + ": " + s);
    }
    i++;
  }
}
