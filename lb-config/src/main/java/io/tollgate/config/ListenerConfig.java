package io.tollgate.config;

import java.util.Objects;

/** A socket Tollgate accepts TLS connections on ({@code tollgate.listeners[i]}). */
public record ListenerConfig(String name, HostPort address) {
  public ListenerConfig {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(address, "address");
  }
}
