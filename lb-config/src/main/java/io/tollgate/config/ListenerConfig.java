package io.tollgate.config;

import java.util.Objects;

/**
 * A socket Tollgate accepts TLS connections on ({@code tollgate.listeners[i]}).
 *
 * @param proxyProtocol whether connections start with a PROXY protocol header from an upstream
 *     balancer ({@link UpstreamProxyProtocol#OFF} by default)
 */
public record ListenerConfig(String name, HostPort address, UpstreamProxyProtocol proxyProtocol) {
  public ListenerConfig {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(address, "address");
    Objects.requireNonNull(proxyProtocol, "proxyProtocol");
  }

  public ListenerConfig(String name, HostPort address) {
    this(name, address, UpstreamProxyProtocol.OFF);
  }
}
