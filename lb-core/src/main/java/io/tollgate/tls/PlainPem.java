package io.tollgate.tls;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

/**
 * The PEM files nearly every deployment has, read with the JDK alone: {@code CERTIFICATE} blocks
 * and unencrypted PKCS#8 {@code PRIVATE KEY} blocks of an EC or RSA key, without headers. Anything
 * else in the file, or anything that does not decode, makes {@link #read} give up (null), and
 * {@link PemFiles} reads the file with BouncyCastle's parser as before, with its error messages.
 *
 * <p>Why: the first pass over 10,000 certificate files, which is what loading 10,000 tenants does,
 * took ~170 µs a file through BouncyCastle's PEM parser and converters (mostly code the JIT has not
 * compiled yet, plus a 16 KB reader buffer per file) and ~60 µs through the JDK's decoder and
 * factories, which the JDK's own start already exercised.
 */
final class PlainPem {
  private static final String BEGIN = "-----BEGIN ";
  private static final String DASHES = "-----";

  /** DER of the algorithm identifiers' OIDs: id-ecPublicKey, rsaEncryption. */
  private static final byte[] EC_OID = {
    0x06, 0x07, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x02, 0x01
  };

  private static final byte[] RSA_OID = {
    0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xf7, 0x0d, 0x01, 0x01, 0x01
  };

  private PlainPem() {}

  /** What {@code content} holds, or null when it holds anything this class does not read. */
  static PemFiles.Content read(byte[] content) {
    try {
      String text = new String(content, StandardCharsets.ISO_8859_1);
      List<X509Certificate> certificates = new ArrayList<>();
      List<PrivateKey> keys = new ArrayList<>();
      CertificateFactory x509 = null;
      int from = 0;
      for (int begin; (begin = text.indexOf(BEGIN, from)) >= 0; ) {
        if (begin > 0 && text.charAt(begin - 1) != '\n') {
          return null; // not at the start of a line: leave the odd file to the full parser
        }
        int labelEnd = text.indexOf(DASHES, begin + BEGIN.length());
        int lineEnd = text.indexOf('\n', begin);
        if (labelEnd < 0 || (lineEnd >= 0 && labelEnd > lineEnd)) {
          return null;
        }
        String label = text.substring(begin + BEGIN.length(), labelEnd);
        String end = "\n-----END " + label + DASHES;
        int endAt = text.indexOf(end, labelEnd);
        if (endAt < 0) {
          return null;
        }
        String body = text.substring(labelEnd + DASHES.length(), endAt);
        if (!base64Lines(body)) {
          return null; // headers (Proc-Type, DEK-Info): an encrypted legacy key
        }
        byte[] der = Base64.getMimeDecoder().decode(body);
        switch (label) {
          case "CERTIFICATE" -> {
            if (x509 == null) {
              x509 = CertificateFactory.getInstance("X.509");
            }
            ByteArrayInputStream in = new ByteArrayInputStream(der);
            certificates.add((X509Certificate) x509.generateCertificate(in));
            if (in.available() > 0) {
              return null; // bytes after the certificate: the parser refuses those
            }
          }
          case "PRIVATE KEY" -> {
            String algorithm = keyAlgorithm(der);
            if (algorithm == null) {
              return null;
            }
            keys.add(
                KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der)));
          }
          default -> {
            return null;
          }
        }
        from = endAt + end.length();
      }
      return new PemFiles.Content(certificates, keys);
    } catch (Exception e) {
      return null; // the full parser reads it again and says what is wrong
    }
  }

  /** Only base64 characters and line breaks (spaces and tabs too, as PEM writers wrap). */
  private static boolean base64Lines(String body) {
    for (int i = 0; i < body.length(); i++) {
      char c = body.charAt(i);
      boolean ok =
          (c >= 'A' && c <= 'Z')
              || (c >= 'a' && c <= 'z')
              || (c >= '0' && c <= '9')
              || c == '+'
              || c == '/'
              || c == '='
              || c == '\n'
              || c == '\r'
              || c == ' '
              || c == '\t';
      if (!ok) {
        return false;
      }
    }
    return true;
  }

  /**
   * "EC" or "RSA" from a PKCS#8 structure's algorithm identifier, which follows its version ({@code
   * SEQUENCE { INTEGER 0, SEQUENCE { OID, ... }, ... }}), or null for any other key.
   */
  private static String keyAlgorithm(byte[] der) {
    // The OID starts within the first few bytes: outer SEQUENCE header (2-4 bytes), version
    // (3 bytes), inner SEQUENCE header (2 bytes). Look for it there only.
    int limit = Math.min(der.length, 16);
    for (int at = 0; at < limit; at++) {
      if (startsWith(der, at, EC_OID)) {
        return "EC";
      }
      if (startsWith(der, at, RSA_OID)) {
        return "RSA";
      }
    }
    return null;
  }

  private static boolean startsWith(byte[] der, int at, byte[] prefix) {
    return at + prefix.length <= der.length
        && Arrays.equals(der, at, at + prefix.length, prefix, 0, prefix.length);
  }
}
