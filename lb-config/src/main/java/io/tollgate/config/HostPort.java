package io.tollgate.config;

import java.net.InetSocketAddress;
import java.util.Objects;

/**
 * A host and port as written in config: {@code 127.0.0.1:8443}, {@code [::1]:8443}, {@code
 * backend.internal:443}. The host is kept as written (IPv6 without brackets); names are resolved by
 * whoever opens the socket, off the event loops.
 */
public record HostPort(String host, int port) {
  public HostPort {
    Objects.requireNonNull(host, "host");
    if (host.isEmpty()) {
      throw new IllegalArgumentException("empty host");
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port out of range: " + port);
    }
  }

  /**
   * Parses {@code host:port} or {@code [v6]:port}.
   *
   * @throws IllegalArgumentException with a message fit for an operator, e.g. {@code "99999" is not
   *     a port (expected 1..65535)}
   */
  public static HostPort parse(String text) {
    return parse(text, 1);
  }

  /**
   * Parses a listen address, where port 0 is also allowed: the OS picks a free port, which tests
   * and {@code tollgate demo --port 0} read back once bound.
   */
  public static HostPort parseListen(String text) {
    return parse(text, 0);
  }

  private static HostPort parse(String text, int minPort) {
    Objects.requireNonNull(text, "text");
    String s = text.trim();
    String host;
    String portText;
    if (s.startsWith("[")) {
      int close = s.indexOf(']');
      if (close < 0 || close + 1 >= s.length() || s.charAt(close + 1) != ':') {
        throw new IllegalArgumentException(
            "\"" + text + "\" is not an address (expected [ipv6]:port)");
      }
      host = s.substring(1, close);
      portText = s.substring(close + 2);
    } else {
      int colon = s.lastIndexOf(':');
      if (colon <= 0 || s.indexOf(':') != colon) {
        throw new IllegalArgumentException(
            "\"" + text + "\" is not an address (expected host:port, or [ipv6]:port)");
      }
      host = s.substring(0, colon);
      portText = s.substring(colon + 1);
    }
    if (host.isEmpty()) {
      throw new IllegalArgumentException("\"" + text + "\" has no host (expected host:port)");
    }
    int port;
    try {
      port = Integer.parseInt(portText);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("\"" + portText + "\" is not a port (expected 1..65535)");
    }
    if (port < minPort || port > 65535) {
      throw new IllegalArgumentException(
          "\""
              + portText
              + "\" is not a port (expected 1..65535"
              + (minPort == 0 ? ", or 0 for any free port)" : ")"));
    }
    return new HostPort(host, port);
  }

  /** An unresolved socket address; resolve it off the event loop before connecting. */
  public InetSocketAddress toUnresolved() {
    return InetSocketAddress.createUnresolved(host, port);
  }

  @Override
  public String toString() {
    return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
  }
}
