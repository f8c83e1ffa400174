package io.tollgate.snapshot;

import io.tollgate.config.ListenerConfig;
import io.tollgate.config.TollgateConfig;
import io.tollgate.config.UpstreamProxyProtocol;
import io.tollgate.inspect.ClientHelloParser;
import java.util.Objects;

/**
 * What one listener's new connections are set up with, from the snapshot they were accepted under:
 * whether an upstream's PROXY header comes first, and the bounds of the ClientHello.
 *
 * @param helloParser stateless, so one serves every connection of the listener; bounded by {@code
 *     limits.max-client-hello}
 * @param helloTimeoutMillis {@code timeouts.client-hello}: the PROXY header and the ClientHello
 *     after it share this one budget
 */
public record ListenerSettings(
    String name,
    UpstreamProxyProtocol proxyProtocol,
    ClientHelloParser helloParser,
    long helloTimeoutMillis) {

  public ListenerSettings {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(proxyProtocol, "proxyProtocol");
    Objects.requireNonNull(helloParser, "helloParser");
  }

  static ListenerSettings of(ListenerConfig listener, TollgateConfig config) {
    return new ListenerSettings(
        listener.name(),
        listener.proxyProtocol(),
        new ClientHelloParser(config.limits().maxClientHello()),
        config.timeouts().clientHello().toMillis());
  }
}
