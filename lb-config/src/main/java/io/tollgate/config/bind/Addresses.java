package io.tollgate.config.bind;

import io.tollgate.config.HostPort;
import java.util.Optional;

/** Reads {@code host:port} strings via {@link HostPort#parse}, reporting failures on the node. */
final class Addresses {
  private Addresses() {}

  /** The parsed address of a string node, or empty after reporting why it is not one. */
  static Optional<HostPort> read(Node node, Schema.Key key) {
    return read(node, key, HostPort::parse);
  }

  /** As {@link #read(Node, Schema.Key)} for a listen address, where port 0 is allowed. */
  static Optional<HostPort> readListen(Node node, Schema.Key key) {
    return read(node, key, HostPort::parseListen);
  }

  private static Optional<HostPort> read(
      Node node, Schema.Key key, java.util.function.Function<String, HostPort> parser) {
    Optional<String> text = Readers.string(node, key);
    if (text.isEmpty()) {
      return Optional.empty();
    }
    try {
      return Optional.of(parser.apply(text.get()));
    } catch (IllegalArgumentException e) {
      node.error(withInput(text.get(), e.getMessage()));
      return Optional.empty();
    }
  }

  /**
   * Prefixes HostPort's message with the whole input unless it already starts with it, so {@code
   * "99999" is not a port} becomes {@code "10.0.0.1:99999": "99999" is not a port}.
   */
  static String withInput(String input, String message) {
    String quoted = "\"" + input + "\"";
    return message.startsWith(quoted) ? message : quoted + ": " + message;
  }

  /** A key for spotting two entries that name the same socket: host compared case-blind. */
  static String identity(HostPort address) {
    return address.toString().toLowerCase(java.util.Locale.ROOT);
  }
}
