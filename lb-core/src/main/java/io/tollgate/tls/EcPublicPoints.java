package io.tollgate.tls;

import java.security.Key;
import java.util.Arrays;

/**
 * The public point of an EC key as its DER encoding carries it: in a certificate's
 * SubjectPublicKeyInfo, and, optionally, in a private key's PKCS#8 encoding (RFC 5915's {@code
 * publicKey} field, which OpenSSL, certbot, Go's crypto/x509 and so every common ACME client
 * write). A private key whose file names the certificate's point was written for that certificate;
 * {@link CertificateChecks#keyMatches} takes that answer instead of multiplying the generator by
 * the private scalar, which was ~40% of building 5,000 offload routes' TLS on a cold JIT. A file
 * whose point and scalar disagree is not a mix-up but a corrupt key, and BoringSSL refuses it when
 * it parses the key on the route's first handshake ({@code EC_KEY_check_key}).
 *
 * <p>A minimal DER walk over definite lengths: anything of another shape answers null, and the
 * caller does the multiplication.
 */
final class EcPublicPoints {
  private static final int SEQUENCE = 0x30;
  private static final int INTEGER = 0x02;
  private static final int OCTET_STRING = 0x04;
  private static final int BIT_STRING = 0x03;
  private static final int PUBLIC_KEY_TAG = 0xa1; // [1] EXPLICIT in ECPrivateKey

  private EcPublicPoints() {}

  /** The point in a SubjectPublicKeyInfo ({@code SEQUENCE { algorithm, BIT STRING }}), or null. */
  static byte[] ofPublic(Key key) {
    byte[] der = key.getEncoded();
    if (der == null) {
      return null;
    }
    Tlv spki = Tlv.at(der, 0, der.length, SEQUENCE);
    Tlv algorithm = spki == null ? null : Tlv.at(der, spki.start, spki.end, SEQUENCE);
    Tlv bits = algorithm == null ? null : Tlv.at(der, algorithm.end, spki.end, BIT_STRING);
    return bits == null ? null : bitStringBytes(der, bits);
  }

  /**
   * The point a PKCS#8 EC private key's encoding names ({@code PrivateKeyInfo { version, algorithm,
   * OCTET STRING { ECPrivateKey { version, privateKey, [0] parameters, [1] publicKey } } }}), or
   * null when it names none.
   */
  static byte[] claimedBy(Key key) {
    byte[] der = key.getEncoded();
    if (der == null) {
      return null;
    }
    Tlv info = Tlv.at(der, 0, der.length, SEQUENCE);
    Tlv version = info == null ? null : Tlv.at(der, info.start, info.end, INTEGER);
    Tlv algorithm = version == null ? null : Tlv.at(der, version.end, info.end, SEQUENCE);
    Tlv octets = algorithm == null ? null : Tlv.at(der, algorithm.end, info.end, OCTET_STRING);
    Tlv ecKey = octets == null ? null : Tlv.at(der, octets.start, octets.end, SEQUENCE);
    Tlv ecVersion = ecKey == null ? null : Tlv.at(der, ecKey.start, ecKey.end, INTEGER);
    Tlv scalar = ecVersion == null ? null : Tlv.at(der, ecVersion.end, ecKey.end, OCTET_STRING);
    if (scalar == null) {
      return null;
    }
    for (int at = scalar.end; at < ecKey.end; ) {
      Tlv field = Tlv.at(der, at, ecKey.end, -1);
      if (field == null) {
        return null;
      }
      if ((der[at] & 0xff) == PUBLIC_KEY_TAG) {
        Tlv bits = Tlv.at(der, field.start, field.end, BIT_STRING);
        return bits == null ? null : bitStringBytes(der, bits);
      }
      at = field.end;
    }
    return null;
  }

  /** A BIT STRING's bytes when it has no unused bits (a point always has whole bytes). */
  private static byte[] bitStringBytes(byte[] der, Tlv bits) {
    if (bits.end - bits.start < 2 || der[bits.start] != 0) {
      return null;
    }
    return Arrays.copyOfRange(der, bits.start + 1, bits.end);
  }

  /** One DER element: its contents are {@code [start, end)}, where the next element starts. */
  private record Tlv(int start, int end) {
    /** The element at {@code at} within {@code limit} with tag {@code tag} (-1: any), or null. */
    static Tlv at(byte[] der, int at, int limit, int tag) {
      if (at + 2 > limit || (tag >= 0 && (der[at] & 0xff) != tag)) {
        return null;
      }
      int first = der[at + 1] & 0xff;
      int start = at + 2;
      int length;
      if (first < 0x80) {
        length = first;
      } else {
        int bytes = first & 0x7f;
        if (bytes == 0 || bytes > 3 || start + bytes > limit) {
          return null;
        }
        length = 0;
        for (int i = 0; i < bytes; i++) {
          length = (length << 8) | (der[start++] & 0xff);
        }
      }
      int end = start + length;
      return end > limit ? null : new Tlv(start, end);
    }
  }
}
