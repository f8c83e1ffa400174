package io.tollgate.config;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * One certificate and its key, as PEM files ({@code certificate { chain = ..., key = ... }}). Paths
 * are absolute: relative paths in a config file are resolved against the file's directory.
 *
 * @param chain PEM: the leaf certificate first, then its intermediates
 * @param key PEM private key (PKCS#8, PKCS#1 RSA or SEC1 EC); may be the same file as chain
 * @param ocsp a DER OCSP response to staple; when absent, {@code <chain>.ocsp} is used if it exists
 */
public record CertificateFiles(Path chain, Path key, Optional<Path> ocsp) {
  public CertificateFiles {
    Objects.requireNonNull(chain, "chain");
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(ocsp, "ocsp");
  }

  public CertificateFiles(Path chain, Path key) {
    this(chain, key, Optional.empty());
  }
}
