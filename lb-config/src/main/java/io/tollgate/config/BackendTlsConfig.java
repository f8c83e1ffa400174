package io.tollgate.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * {@code tollgate.pools.NAME.tls}: how a reencrypt route talks TLS to the pool's servers. A
 * reencrypt route whose pool has no {@code tls} block uses {@link #DEFAULTS}.
 *
 * @param ca PEM bundle of the CAs that may issue server certificates; absent: the JDK's trust store
 * @param serverName SNI and the name the certificate must match; absent: the client's SNI
 * @param verify whether to verify the server's certificate and name (default true; false is logged
 *     as a warning at every load)
 * @param certificate client certificate Tollgate presents to the servers, if any
 * @param protocols TLS versions toward the servers (default TLSv1.2 and TLSv1.3)
 */
public record BackendTlsConfig(
    Optional<Path> ca,
    Optional<String> serverName,
    boolean verify,
    Optional<CertificateFiles> certificate,
    List<String> protocols) {

  public static final BackendTlsConfig DEFAULTS =
      new BackendTlsConfig(
          Optional.empty(),
          Optional.empty(),
          true,
          Optional.empty(),
          ServerTlsConfig.DEFAULT_PROTOCOLS);

  public BackendTlsConfig {
    Objects.requireNonNull(ca, "ca");
    Objects.requireNonNull(serverName, "serverName");
    Objects.requireNonNull(certificate, "certificate");
    protocols = List.copyOf(protocols);
  }
}
