package io.tollgate.tls;

import java.io.IOException;
import java.security.cert.X509Certificate;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.SubjectKeyIdentifier;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;

/** A certificate's key identifier extensions (RFC 5280 4.2.1.1 and 4.2.1.2), when it has them. */
final class KeyIdentifiers {
  private static final String AUTHORITY = "2.5.29.35";
  private static final String SUBJECT = "2.5.29.14";

  private KeyIdentifiers() {}

  /** The key identifier of the key that signed {@code certificate}, or null. */
  static byte[] authorityKeyId(X509Certificate certificate) {
    byte[] extension = certificate.getExtensionValue(AUTHORITY);
    if (extension == null) {
      return null;
    }
    try {
      return AuthorityKeyIdentifier.getInstance(
              JcaX509ExtensionUtils.parseExtensionValue(extension))
          .getKeyIdentifier();
    } catch (IOException | IllegalArgumentException e) {
      return null;
    }
  }

  /** The key identifier of {@code certificate}'s own key, or null. */
  static byte[] subjectKeyId(X509Certificate certificate) {
    byte[] extension = certificate.getExtensionValue(SUBJECT);
    if (extension == null) {
      return null;
    }
    try {
      return SubjectKeyIdentifier.getInstance(JcaX509ExtensionUtils.parseExtensionValue(extension))
          .getKeyIdentifier();
    } catch (IOException | IllegalArgumentException e) {
      return null;
    }
  }
}
