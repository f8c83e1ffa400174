package io.tollgate.tls;

/**
 * The certificates that can answer for one name: at most one ECDSA and one RSA.
 *
 * @param ecdsa the ECDSA certificate, or {@code null}
 * @param rsa the RSA certificate, or {@code null}
 */
record CertificateChoice(CertifiedKey ecdsa, CertifiedKey rsa) {
  CertificateChoice {
    if (ecdsa == null && rsa == null) {
      throw new IllegalArgumentException("no certificate");
    }
  }

  /** ECDSA when the client can use it and there is one, else RSA, else whatever there is. */
  CertifiedKey select(boolean clientSupportsEcdsa) {
    if (clientSupportsEcdsa && ecdsa != null) {
      return ecdsa;
    }
    return rsa != null ? rsa : ecdsa;
  }

  /** The certificates there are: ECDSA first, then RSA. */
  java.util.List<CertifiedKey> present() {
    return ecdsa == null
        ? java.util.List.of(rsa)
        : rsa == null ? java.util.List.of(ecdsa) : java.util.List.of(ecdsa, rsa);
  }

  CertifiedKey get(KeyKind kind) {
    return kind == KeyKind.ECDSA ? ecdsa : rsa;
  }

  CertificateChoice with(CertifiedKey certified) {
    return certified.kind() == KeyKind.ECDSA
        ? new CertificateChoice(certified, rsa)
        : new CertificateChoice(ecdsa, certified);
  }

  static CertificateChoice of(CertifiedKey certified) {
    return certified.kind() == KeyKind.ECDSA
        ? new CertificateChoice(certified, null)
        : new CertificateChoice(null, certified);
  }
}
