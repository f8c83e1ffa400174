package io.tollgate.tls;

import java.security.PublicKey;

/** The two key types a server certificate may have; a route may have one of each. */
public enum KeyKind {
  ECDSA("SHA256withECDSA"),
  RSA("SHA256withRSA");

  private final String signatureAlgorithm;

  KeyKind(String signatureAlgorithm) {
    this.signatureAlgorithm = signatureAlgorithm;
  }

  /** A JCA signature algorithm usable with keys of this kind (to prove a key pair matches). */
  String signatureAlgorithm() {
    return signatureAlgorithm;
  }

  /** The kind of {@code key}, or {@code null} for any other algorithm (DSA, EdDSA, ...). */
  static KeyKind of(PublicKey key) {
    return of(key.getAlgorithm());
  }

  /** The kind for a JCA key algorithm name ({@code EC}, {@code RSA}), or {@code null}. */
  static KeyKind of(String jcaAlgorithm) {
    switch (jcaAlgorithm) {
      case "EC":
      case "ECDSA":
        return ECDSA;
      case "RSA":
        return RSA;
      default:
        return null;
    }
  }
}
