package io.tollgate.snapshot;

import io.tollgate.config.ListenerConfig;
import io.tollgate.config.TollgateConfig;
import io.tollgate.config.UpstreamProxyProtocol;
import io.tollgate.connection.TcpKeepalive;
import io.tollgate.inspect.ClientHelloParser;
import io.tollgate.route.Router;
import io.tollgate.route.SourceFilter;
import java.util.Objects;

/**
 * What one listener's new connections are set up with, from the snapshot they were accepted under:
 * whether an upstream's PROXY header comes first, and the bounds of the ClientHello.
 *
 * @param helloParser stateless, so one serves every connection of the listener; bounded by {@code
 *     limits.max-client-hello}
 * @param helloTimeoutMillis {@code timeouts.client-hello}: the PROXY header and the ClientHello
 *     after it share this one budget
 * @param index the listener's position in the config: which routes apply here ({@code
 *     Route.appliesOn})
 * @param fallback where names without a route here go: the listener's own default route, else the
 *     top-level one
 * @param access the listener's allow-from / deny-from, checked before the hello; null for none
 * @param keepalive TCP keepalive for its client sockets, or null
 * @param maxLifetimeMillis {@code timeouts.max-lifetime}; 0 for no cap
 */
public record ListenerSettings(
    String name,
    UpstreamProxyProtocol proxyProtocol,
    ClientHelloParser helloParser,
    long helloTimeoutMillis,
    int index,
    Router.Match fallback,
    SourceFilter access,
    TcpKeepalive keepalive,
    long maxLifetimeMillis) {

  /** Every route applies and unmatched names are rejected; no access rules or socket options. */
  public ListenerSettings(
      String name,
      UpstreamProxyProtocol proxyProtocol,
      ClientHelloParser helloParser,
      long helloTimeoutMillis) {
    this(
        name,
        proxyProtocol,
        helloParser,
        helloTimeoutMillis,
        -1,
        Router.fallback(null),
        null,
        null,
        0);
  }

  public ListenerSettings {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(proxyProtocol, "proxyProtocol");
    Objects.requireNonNull(helloParser, "helloParser");
    Objects.requireNonNull(fallback, "fallback");
  }

  static ListenerSettings of(
      ListenerConfig listener, TollgateConfig config, int index, Router.Match fallback) {
    return new ListenerSettings(
        listener.name(),
        listener.proxyProtocol(),
        new ClientHelloParser(config.limits().maxClientHello()),
        config.timeouts().clientHello().toMillis(),
        index,
        fallback,
        SourceFilter.of(listener.access()),
        TcpKeepalive.of(config.timeouts().keepalive()),
        config.timeouts().maxLifetime().toMillis());
  }
}
