package io.tollgate.config;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The client-facing TLS of an offload or reencrypt route.
 *
 * @param certificate where the server certificate comes from
 * @param alpn protocols offered in ALPN, in preference order (default {@code ["http/1.1"]}; empty:
 *     no ALPN)
 * @param protocols TLS versions, e.g. {@code ["TLSv1.2", "TLSv1.3"]} (the default); only TLSv1.2
 *     and TLSv1.3 are accepted
 * @param ciphers TLS 1.2 cipher suites (IANA names); empty means the built-in default (ECDHE with
 *     AEAD, Mozilla "intermediate"). TLS 1.3 suites are not configurable.
 * @param clientAuth client certificate verification, if any
 */
public record ServerTlsConfig(
    CertificateSource certificate,
    List<String> alpn,
    List<String> protocols,
    List<String> ciphers,
    Optional<ClientAuth> clientAuth) {

  public static final List<String> DEFAULT_ALPN = List.of("http/1.1");
  public static final List<String> DEFAULT_PROTOCOLS = List.of("TLSv1.2", "TLSv1.3");

  public ServerTlsConfig {
    Objects.requireNonNull(certificate, "certificate");
    alpn = List.copyOf(alpn);
    protocols = List.copyOf(protocols);
    ciphers = List.copyOf(ciphers);
    Objects.requireNonNull(clientAuth, "clientAuth");
    if (protocols.isEmpty()) {
      throw new IllegalArgumentException("at least one protocol");
    }
  }

  /** The defaults with the given certificate source. */
  public static ServerTlsConfig defaults(CertificateSource certificate) {
    return new ServerTlsConfig(
        certificate, DEFAULT_ALPN, DEFAULT_PROTOCOLS, List.of(), Optional.empty());
  }
}
