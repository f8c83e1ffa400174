package io.tollgate.pki;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * A private key and its certificate chain as issued by a {@link CertificateAuthority}: the leaf
 * first, followed by any intermediates; the root is never included (clients must already trust it).
 * Can be written as PEM files for Netty/OpenSSL-style configuration or turned into JDK {@link
 * KeyManagerFactory}/{@link SSLContext} objects for in-process servers.
 */
public final class IssuedCertificate {
  private static final char[] KEY_STORE_PASSWORD = "tollgate-demo".toCharArray();
  private static final Set<PosixFilePermission> OWNER_READ_WRITE =
      PosixFilePermissions.fromString("rw-------");

  private final PrivateKey key;
  private final List<X509Certificate> chain;

  /** Paths of the files written by {@link #writePem(Path, String)}. */
  public record PemFiles(Path certificateChain, Path privateKey) {}

  IssuedCertificate(PrivateKey key, List<X509Certificate> chain) {
    this.key = Objects.requireNonNull(key, "key");
    this.chain = List.copyOf(chain);
    if (this.chain.isEmpty()) {
      throw new IllegalArgumentException("empty certificate chain");
    }
  }

  /** The leaf's private key. */
  public PrivateKey key() {
    return key;
  }

  /** Leaf first, then intermediates; the root is excluded. */
  public List<X509Certificate> chain() {
    return chain;
  }

  /** The leaf certificate. */
  public X509Certificate certificate() {
    return chain.get(0);
  }

  /** The chain as concatenated PEM {@code CERTIFICATE} blocks, leaf first. */
  public String chainPem() {
    return Pem.certificates(chain);
  }

  /** The private key as an unencrypted PKCS#8 PEM ({@code BEGIN PRIVATE KEY}). */
  public String keyPem() {
    return Pem.pkcs8(key);
  }

  /**
   * The private key in the traditional OpenSSL form: {@code BEGIN RSA PRIVATE KEY} (PKCS#1) or
   * {@code BEGIN EC PRIVATE KEY} (SEC 1, with curve and public key).
   */
  public String traditionalKeyPem() {
    return Pem.traditional(key, certificate().getPublicKey());
  }

  /**
   * The private key as unencrypted PKCS#8, as OpenSSL (and certbot, and Go's crypto/x509) write it:
   * an EC key's nested structure names its public key (RFC 5915), which the JDK's own encoding
   * ({@link #keyPem()}) leaves out. RSA keys are the same in both.
   */
  public String openSslKeyPem() {
    return Pem.pkcs8AsOpenSsl(key, certificate().getPublicKey());
  }

  /**
   * Writes {@code dir/baseName.pem} (the chain) and {@code dir/baseName.key} (PKCS#8 key,
   * owner-only permissions where the file system is POSIX), creating {@code dir} if needed and
   * replacing existing files.
   */
  public PemFiles writePem(Path dir, String baseName) {
    try {
      Files.createDirectories(dir);
      Path chainFile = dir.resolve(baseName + ".pem");
      Path keyFile = dir.resolve(baseName + ".key");
      Files.writeString(chainFile, chainPem());
      writeSecret(keyFile, keyPem());
      return new PemFiles(chainFile, keyFile);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write PEM files to " + dir, e);
    }
  }

  /**
   * Writes the key in the traditional form (see {@link #traditionalKeyPem()}) to {@code file},
   * owner-only where POSIX, and returns {@code file}.
   */
  public Path writeTraditionalKey(Path file) {
    return writeKey(file, traditionalKeyPem());
  }

  /**
   * Writes the key as OpenSSL's PKCS#8 (see {@link #openSslKeyPem()}) to {@code file}, owner-only
   * where POSIX, and returns {@code file}.
   */
  public Path writeOpenSslKey(Path file) {
    return writeKey(file, openSslKeyPem());
  }

  private static Path writeKey(Path file, String pem) {
    try {
      Path parent = file.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      writeSecret(file, pem);
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }

  /** Key managers presenting this chain, for JDK TLS servers (or clients doing mutual TLS). */
  public KeyManagerFactory keyManagers() {
    try {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      store.setKeyEntry(
          "tollgate-demo", key, KEY_STORE_PASSWORD, chain.toArray(new X509Certificate[0]));
      KeyManagerFactory factory =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      factory.init(store, KEY_STORE_PASSWORD);
      return factory;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("cannot build key managers", e);
    }
  }

  /**
   * A server {@code SSLContext} presenting this chain and requesting no client certificate. The JDK
   * 17 defaults already enable only TLS 1.3 and 1.2; servers pin that explicitly with {@link
   * TlsProtocols#modern()}.
   */
  public SSLContext serverContext() {
    try {
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(keyManagers().getKeyManagers(), null, new SecureRandom());
      return context;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot build server SSLContext", e);
    }
  }

  @Override
  public String toString() {
    return "IssuedCertificate[" + certificate().getSubjectX500Principal() + "]";
  }

  /** Creates {@code file} owner-only before any secret byte reaches it. */
  private static void writeSecret(Path file, String content) throws IOException {
    if (file.getFileSystem().supportedFileAttributeViews().contains("posix")) {
      Files.deleteIfExists(file);
      Files.createFile(file, PosixFilePermissions.asFileAttribute(OWNER_READ_WRITE));
    }
    Files.writeString(file, content);
  }
}
