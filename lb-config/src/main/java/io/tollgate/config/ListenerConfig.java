package io.tollgate.config;

import java.util.Objects;
import java.util.Optional;

/**
 * A socket Tollgate accepts TLS connections on ({@code tollgate.listeners[i]}).
 *
 * @param proxyProtocol whether connections start with a PROXY protocol header from an upstream
 *     balancer ({@link UpstreamProxyProtocol#OFF} by default)
 * @param maxConnections client connections open at once on this listener; 0 = only the global limit
 *     applies
 * @param reusePort SO_REUSEPORT on the listening socket: other processes that set it too may bind
 *     the same address, and the kernel spreads new connections among them (epoll or io_uring)
 * @param freebind IP_FREEBIND: the address may be bound before it is assigned to an interface, e.g.
 *     a virtual IP that moves between nodes (epoll or io_uring)
 * @param protocol what connections speak first: a TLS ClientHello (the default) or a plain HTTP
 *     request ({@code protocol = http}, the port-80 companion)
 * @param http on an http listener, what a request gets whose route has neither an {@code http-pool}
 *     nor an {@code http} action of its own; {@link HttpAction#REDIRECT_HTTPS} by default (and on
 *     TLS listeners, where it is unused)
 * @param defaultRoute this listener's own default route; empty: {@code tollgate.default-route}
 * @param access which client addresses may connect, checked before the ClientHello is read
 */
public record ListenerConfig(
    String name,
    HostPort address,
    UpstreamProxyProtocol proxyProtocol,
    int maxConnections,
    boolean reusePort,
    boolean freebind,
    ListenerProtocol protocol,
    HttpAction http,
    Optional<DefaultRoute> defaultRoute,
    AccessRules access) {
  public ListenerConfig {
    Objects.requireNonNull(protocol, "protocol");
    Objects.requireNonNull(http, "http");
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(address, "address");
    Objects.requireNonNull(proxyProtocol, "proxyProtocol");
    if (maxConnections < 0) {
      throw new IllegalArgumentException("negative maxConnections");
    }
    Objects.requireNonNull(defaultRoute, "defaultRoute");
    Objects.requireNonNull(access, "access");
  }

  /** A TLS listener without a default route or access rules of its own. */
  public ListenerConfig(
      String name,
      HostPort address,
      UpstreamProxyProtocol proxyProtocol,
      int maxConnections,
      boolean reusePort,
      boolean freebind) {
    this(
        name,
        address,
        proxyProtocol,
        maxConnections,
        reusePort,
        freebind,
        ListenerProtocol.TLS,
        HttpAction.REDIRECT_HTTPS,
        Optional.empty(),
        AccessRules.NONE);
  }

  /** Without SO_REUSEPORT or IP_FREEBIND. */
  public ListenerConfig(
      String name, HostPort address, UpstreamProxyProtocol proxyProtocol, int maxConnections) {
    this(name, address, proxyProtocol, maxConnections, false, false);
  }

  /** Without a PROXY header, a listener limit or socket options. */
  public ListenerConfig(String name, HostPort address) {
    this(name, address, UpstreamProxyProtocol.OFF, 0);
  }
}
