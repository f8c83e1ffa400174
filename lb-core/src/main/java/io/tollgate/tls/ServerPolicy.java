package io.tollgate.tls;

import io.tollgate.config.ClientAuth;
import io.tollgate.config.ServerTlsConfig;
import java.util.List;
import java.util.Optional;

/**
 * Everything of a route's client-facing TLS except the certificate. Contexts are not shared between
 * routes even with equal policies: sessions are bound to the route ({@link SessionScope}).
 */
record ServerPolicy(
    List<String> alpn,
    List<String> protocols,
    List<String> ciphers,
    Optional<ClientAuth> clientAuth) {

  static ServerPolicy of(ServerTlsConfig config) {
    return new ServerPolicy(
        config.alpn(), config.protocols(), config.ciphers(), config.clientAuth());
  }
}
