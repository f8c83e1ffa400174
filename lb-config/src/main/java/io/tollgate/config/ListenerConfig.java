package io.tollgate.config;

import java.util.Objects;

/**
 * A socket Tollgate accepts TLS connections on ({@code tollgate.listeners[i]}).
 *
 * @param maxConnections client connections open at once on this listener; 0 = only the global
 *     limit applies
 */
public record ListenerConfig(String name, HostPort address, int maxConnections) {
  /** Without a listener limit. */
  public ListenerConfig(String name, HostPort address) {
    this(name, address, 0);
  }

  public ListenerConfig {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(address, "address");
    if (maxConnections < 0) {
      throw new IllegalArgumentException("negative maxConnections");
    }
  }
}
