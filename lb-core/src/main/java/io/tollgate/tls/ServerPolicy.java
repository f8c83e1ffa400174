package io.tollgate.tls;

import io.tollgate.config.ClientAuth;
import io.tollgate.config.ServerTlsConfig;
import java.util.List;
import java.util.Optional;

/**
 * Everything of a route's client-facing TLS except the certificate: routes with equal policies
 * share their {@code SslContext}s for the same certificate (the certificate store's bundles in
 * particular).
 */
record ServerPolicy(
    List<String> alpn, List<String> protocols, List<String> ciphers, Optional<ClientAuth> clientAuth) {

  static ServerPolicy of(ServerTlsConfig config) {
    return new ServerPolicy(
        config.alpn(), config.protocols(), config.ciphers(), config.clientAuth());
  }
}
