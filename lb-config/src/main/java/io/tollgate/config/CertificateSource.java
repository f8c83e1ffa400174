package io.tollgate.config;

import java.util.List;

/** Where an offload or reencrypt route's server certificate comes from. */
public sealed interface CertificateSource {

  /** {@code certificate = auto}: from the {@code tollgate.certificates} store, by SNI. */
  record Auto() implements CertificateSource {}

  /**
   * {@code certificate = acme}: issued and renewed for the route's hosts by the CA of {@code
   * tollgate.acme}.
   */
  record Acme() implements CertificateSource {}

  /**
   * {@code certificate { chain, key }} or a list of them (at most one per key type: one ECDSA and
   * one RSA; clients that support ECDSA get it, others get RSA).
   */
  record Files(List<CertificateFiles> files) implements CertificateSource {
    public Files {
      files = List.copyOf(files);
      if (files.isEmpty()) {
        throw new IllegalArgumentException("at least one certificate");
      }
    }
  }
}
