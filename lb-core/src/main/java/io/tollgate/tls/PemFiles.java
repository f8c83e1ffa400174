package io.tollgate.tls;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;

/**
 * Reads PEM files: certificates ({@code BEGIN CERTIFICATE}, in file order) and private keys in
 * PKCS#8 ({@code BEGIN PRIVATE KEY}), PKCS#1 ({@code BEGIN RSA PRIVATE KEY}) and SEC 1 ({@code
 * BEGIN EC PRIVATE KEY}) form. Encrypted keys are refused with a message that says how to decrypt
 * them (Tollgate starts unattended, there is nobody to type a pass phrase). {@code EC PARAMETERS}
 * blocks (as {@code openssl ecparam -genkey} writes them) are skipped.
 *
 * <p>BouncyCastle only parses; keys and certificates are built by the JDK's own providers, so they
 * work with every TLS provider. Files of certificates and unencrypted PKCS#8 EC or RSA keys, the
 * common case, are read by {@link PlainPem} without BouncyCastle; it hands anything else back.
 */
final class PemFiles {
  private PemFiles() {}

  /** What one PEM file holds. */
  record Content(List<X509Certificate> certificates, List<PrivateKey> keys) {
    Content {
      certificates = List.copyOf(certificates);
      keys = List.copyOf(keys);
    }
  }

  /** Why a PEM file cannot be used; the message is meant for the operator. */
  static final class PemException extends Exception {
    PemException(String message) {
      super(message);
    }

    PemException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /** Reads every certificate and private key in {@code file}. */
  static Content read(Path file) throws PemException {
    return read(file, bytes(file));
  }

  /** The bytes of {@code file}, for {@link #read(Path, byte[])}. */
  static byte[] bytes(Path file) throws PemException {
    try {
      return Files.readAllBytes(file);
    } catch (IOException e) {
      throw new PemException("cannot read PEM: " + describe(e), e);
    }
  }

  /** Every certificate and private key in {@code content}, read from {@code file}. */
  static Content read(Path file, byte[] content) throws PemException {
    Content plain = PlainPem.read(content);
    return plain != null ? plain : parse(file, content);
  }

  /** As {@link #read(Path, byte[])}, always through BouncyCastle's parser. */
  static Content parse(Path file, byte[] content) throws PemException {
    List<X509Certificate> certificates = new ArrayList<>();
    List<PrivateKey> keys = new ArrayList<>();
    JcaPEMKeyConverter keyConverter = new JcaPEMKeyConverter();
    JcaX509CertificateConverter certificateConverter = new JcaX509CertificateConverter();
    try (Reader reader =
            new java.io.InputStreamReader(
                new java.io.ByteArrayInputStream(content), StandardCharsets.ISO_8859_1);
        PEMParser parser = new PEMParser(reader)) {
      for (Object object; (object = parser.readObject()) != null; ) {
        if (object instanceof X509CertificateHolder holder) {
          certificates.add(certificateConverter.getCertificate(holder));
        } else if (object instanceof PrivateKeyInfo info) {
          keys.add(keyConverter.getPrivateKey(info));
        } else if (object instanceof PEMKeyPair pair) {
          keys.add(keyConverter.getKeyPair(pair).getPrivate());
        } else if (object instanceof PKCS8EncryptedPrivateKeyInfo
            || object instanceof PEMEncryptedKeyPair) {
          throw new PemException(
              "the private key is encrypted; Tollgate needs an unencrypted key (it starts without"
                  + " anyone to type a pass phrase): decrypt it with `openssl pkey -in "
                  + file
                  + " -out NEW.key`, keep NEW.key readable by Tollgate's user only, and point the"
                  + " config at it");
        } else if (object instanceof ASN1ObjectIdentifier) {
          continue; // EC PARAMETERS: the curve is repeated inside the key itself.
        }
        // Anything else (public keys, CRLs, DH parameters) is not ours to use: ignored.
      }
    } catch (PemException e) {
      throw e;
    } catch (IOException e) {
      throw new PemException("cannot read PEM: " + describe(e), e);
    } catch (CertificateException e) {
      throw new PemException("unreadable certificate: " + describe(e), e);
    } catch (RuntimeException e) {
      // BouncyCastle reports some malformed DER as IllegalArgumentException/IllegalStateException.
      throw new PemException("malformed PEM content: " + describe(e), e);
    }
    return new Content(certificates, keys);
  }

  /** The certificates of a CA bundle; at least one, or an exception saying there is none. */
  static List<X509Certificate> readCertificates(Path file) throws PemException {
    List<X509Certificate> certificates = read(file).certificates();
    if (certificates.isEmpty()) {
      throw new PemException(
          "no certificate in the file (expected PEM blocks -----BEGIN CERTIFICATE-----)");
    }
    return certificates;
  }

  private static String describe(Exception e) {
    String message = e.getMessage();
    Throwable cause = e.getCause();
    if ((message == null || message.isBlank()) && cause != null) {
      message = cause.getMessage();
    }
    return message == null ? e.getClass().getSimpleName() : message;
  }
}
