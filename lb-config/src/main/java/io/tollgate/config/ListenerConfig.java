package io.tollgate.config;

import java.util.Objects;

/**
 * A socket Tollgate accepts TLS connections on ({@code tollgate.listeners[i]}).
 *
 * @param proxyProtocol whether connections start with a PROXY protocol header from an upstream
 *     balancer ({@link UpstreamProxyProtocol#OFF} by default)
 * @param maxConnections client connections open at once on this listener; 0 = only the global limit
 *     applies
 */
public record ListenerConfig(
    String name, HostPort address, UpstreamProxyProtocol proxyProtocol, int maxConnections) {
  public ListenerConfig {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(address, "address");
    Objects.requireNonNull(proxyProtocol, "proxyProtocol");
    if (maxConnections < 0) {
      throw new IllegalArgumentException("negative maxConnections");
    }
  }

  /** Without a PROXY header or a listener limit. */
  public ListenerConfig(String name, HostPort address) {
    this(name, address, UpstreamProxyProtocol.OFF, 0);
  }
}
