package io.tollgate.pki;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.RSAPrivateKey;
import java.util.Base64;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;

/** PEM text for certificates and private keys, in the formats servers and tools expect. */
final class Pem {
  private static final Base64.Encoder BASE64 =
      Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII));

  private Pem() {}

  /** Concatenated {@code CERTIFICATE} blocks in the given order. */
  static String certificates(List<X509Certificate> certificates) {
    StringBuilder out = new StringBuilder();
    for (X509Certificate certificate : certificates) {
      try {
        out.append(block("CERTIFICATE", certificate.getEncoded()));
      } catch (CertificateEncodingException e) {
        throw new IllegalStateException(
            "cannot encode " + certificate.getSubjectX500Principal(), e);
      }
    }
    return out.toString();
  }

  /** An unencrypted PKCS#8 {@code PRIVATE KEY} block (the JDK's own key encoding). */
  static String pkcs8(PrivateKey key) {
    return block("PRIVATE KEY", key.getEncoded());
  }

  /**
   * An unencrypted PKCS#8 {@code PRIVATE KEY} block as OpenSSL writes it: for an EC key, the nested
   * {@code ECPrivateKey} carries the public key, which the JDK's encoding omits.
   */
  static String pkcs8AsOpenSsl(PrivateKey key, PublicKey publicKey) {
    if (!(key instanceof ECPrivateKey ec)) {
      return pkcs8(key);
    }
    try {
      PrivateKeyInfo info = PrivateKeyInfo.getInstance(key.getEncoded());
      org.bouncycastle.asn1.sec.ECPrivateKey withPublic =
          new org.bouncycastle.asn1.sec.ECPrivateKey(
              ec.getParams().getOrder().bitLength(),
              ec.getS(),
              SubjectPublicKeyInfo.getInstance(publicKey.getEncoded()).getPublicKeyData(),
              null);
      return block(
          "PRIVATE KEY",
          new PrivateKeyInfo(info.getPrivateKeyAlgorithm(), withPublic).getEncoded());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot encode private key", e);
    }
  }

  /**
   * The pre-PKCS#8 ("traditional", OpenSSL) encoding: PKCS#1 {@code RSA PRIVATE KEY} or SEC 1
   * {@code EC PRIVATE KEY}. The EC form is rebuilt with the curve and public key included, because
   * the structure nested in the JDK's PKCS#8 encoding omits them and OpenSSL needs the curve.
   */
  static String traditional(PrivateKey key, PublicKey publicKey) {
    try {
      PrivateKeyInfo info = PrivateKeyInfo.getInstance(key.getEncoded());
      if (key instanceof RSAPrivateKey) {
        return block("RSA PRIVATE KEY", info.parsePrivateKey().toASN1Primitive().getEncoded());
      }
      if (key instanceof ECPrivateKey) {
        ECPrivateKey ec = (ECPrivateKey) key;
        org.bouncycastle.asn1.sec.ECPrivateKey sec1 =
            new org.bouncycastle.asn1.sec.ECPrivateKey(
                ec.getParams().getOrder().bitLength(),
                ec.getS(),
                SubjectPublicKeyInfo.getInstance(publicKey.getEncoded()).getPublicKeyData(),
                info.getPrivateKeyAlgorithm().getParameters());
        return block("EC PRIVATE KEY", sec1.getEncoded());
      }
      throw new IllegalArgumentException("no traditional PEM format for " + key.getAlgorithm());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot encode private key", e);
    }
  }

  private static String block(String type, byte[] der) {
    return "-----BEGIN "
        + type
        + "-----\n"
        + BASE64.encodeToString(der)
        + "\n-----END "
        + type
        + "-----\n";
  }
}
