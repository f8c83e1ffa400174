package io.tollgate.config;

import java.nio.file.Path;
import java.util.Optional;

/**
 * {@code tollgate.certificates}: the certificate store for {@code certificate = auto}, and the
 * roots used to tell a complete chain from one missing its intermediate.
 *
 * @param directory every PEM bundle (chain + key) in it is loaded and indexed by its SAN DNS names
 * @param trustedRoots PEM file of extra root CAs (besides the JDK's trust store) at which a
 *     certificate chain may end without including the root itself
 */
public record CertificatesConfig(Optional<Path> directory, Optional<Path> trustedRoots) {
  public static final CertificatesConfig NONE =
      new CertificatesConfig(Optional.empty(), Optional.empty());
}
