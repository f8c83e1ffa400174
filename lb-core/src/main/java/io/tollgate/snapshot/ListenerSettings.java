package io.tollgate.snapshot;

import io.tollgate.config.HttpAction;
import io.tollgate.config.ListenerConfig;
import io.tollgate.config.ListenerProtocol;
import io.tollgate.config.TollgateConfig;
import io.tollgate.config.UpstreamProxyProtocol;
import io.tollgate.connection.TcpKeepalive;
import io.tollgate.inspect.ClientHelloParser;
import io.tollgate.inspect.HttpRequestParser;
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
 *     after it share this one budget; on http listeners, the request head's
 * @param protocol whether connections start with a ClientHello or a plain HTTP request
 * @param requestParser on http listeners, bounded by {@code limits.max-client-hello} as the hello
 *     is; null on TLS listeners
 * @param httpAction on http listeners, the answer for routes without an http-pool or an http of
 *     their own
 * @param index the listener's position in the config: which routes apply here ({@code
 *     Route.appliesOn})
 * @param fallback where names without a route here go: the listener's own default route, else the
 *     top-level one
 * @param access the listener's allow-from / deny-from, checked before the hello; null for none
 * @param keepalive TCP keepalive for its client sockets, or null
 * @param maxLifetimeMillis {@code timeouts.max-lifetime}; 0 for no cap
 * @param receiveBuffer {@code limits.receive-buffer}: SO_RCVBUF of its client sockets; 0 leaves the
 *     kernel's autotuning
 */
public record ListenerSettings(
    String name,
    UpstreamProxyProtocol proxyProtocol,
    ClientHelloParser helloParser,
    long helloTimeoutMillis,
    ListenerProtocol protocol,
    HttpRequestParser requestParser,
    HttpAction httpAction,
    int index,
    Router.Match fallback,
    SourceFilter access,
    TcpKeepalive keepalive,
    long maxLifetimeMillis,
    int receiveBuffer) {

  /**
   * A TLS listener's settings: every route applies and unmatched names are rejected; no access
   * rules or socket options.
   */
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
        ListenerProtocol.TLS,
        null,
        HttpAction.REDIRECT_HTTPS,
        -1,
        Router.fallback(null),
        null,
        null,
        0,
        0);
  }

  public ListenerSettings {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(proxyProtocol, "proxyProtocol");
    Objects.requireNonNull(helloParser, "helloParser");
    Objects.requireNonNull(protocol, "protocol");
    Objects.requireNonNull(httpAction, "httpAction");
    if ((protocol == ListenerProtocol.HTTP) != (requestParser != null)) {
      throw new IllegalArgumentException(name + ": a request parser goes with http listeners");
    }
    Objects.requireNonNull(fallback, "fallback");
  }

  static ListenerSettings of(
      ListenerConfig listener, TollgateConfig config, int index, Router.Match fallback) {
    return new ListenerSettings(
        listener.name(),
        listener.proxyProtocol(),
        new ClientHelloParser(config.limits().maxClientHello()),
        config.timeouts().clientHello().toMillis(),
        listener.protocol(),
        listener.protocol() == ListenerProtocol.HTTP
            ? new HttpRequestParser(config.limits().maxClientHello())
            : null,
        listener.http(),
        index,
        fallback,
        SourceFilter.of(listener.access()),
        TcpKeepalive.of(config.timeouts().keepalive()),
        config.timeouts().maxLifetime().toMillis(),
        config.limits().receiveBuffer());
  }
}
