package io.tollgate.acme;

import io.tollgate.tls.CertifiedKey;
import io.tollgate.tls.KeyKind;
import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.shredzone.acme4j.util.KeyPairUtils;

/**
 * The files of {@code tollgate.acme.storage}, which a fleet may share:
 *
 * <pre>
 * account.key                      the ACME account's key pair (PEM)
 * certificates/NAME/ecdsa.pem      chain and key of one certificate, in one file so one rename
 * certificates/NAME/rsa.pem        replaces both (a node never reads a new key with an old chain)
 * certificates/NAME/order.lock     held (fcntl lock) by the node ordering for NAME
 * </pre>
 *
 * Every write goes to a temporary file in the same directory, then is renamed over the old one.
 */
final class AcmeStorage {
  private final Path root;

  AcmeStorage(Path root) {
    registerBouncyCastle();
    this.root = root;
  }

  /**
   * acme4j reads and writes PEM keys through BouncyCastle by provider name. Appended, so the JDK's
   * providers stay first for everything else.
   */
  static void registerBouncyCastle() {
    synchronized (java.security.Security.class) {
      if (java.security.Security.getProvider("BC") == null) {
        java.security.Security.addProvider(
            new org.bouncycastle.jce.provider.BouncyCastleProvider());
      }
    }
  }

  Path root() {
    return root;
  }

  /** The account key, created (and written) the first time. */
  synchronized KeyPair accountKey() throws IOException {
    Files.createDirectories(root);
    Path file = root.resolve("account.key");
    try (FileChannel lockFile = lockChannel(root.resolve("account.lock"));
        FileLock lock = lockFile.lock()) {
      if (Files.exists(file)) {
        try (Reader r = Files.newBufferedReader(file)) {
          return KeyPairUtils.readKeyPair(r);
        }
      }
      KeyPair key = KeyPairUtils.createECKeyPair("secp256r1");
      StringWriter pem = new StringWriter();
      KeyPairUtils.writeKeyPair(key, pem);
      writeAtomically(file, pem.toString());
      return key;
    }
  }

  /** The directory of a route's certificates. */
  Path directory(String routeName) {
    return root.resolve("certificates").resolve(safe(routeName));
  }

  Path bundle(String routeName, KeyKind kind) {
    return directory(routeName).resolve(kind.name().toLowerCase(Locale.ROOT) + ".pem");
  }

  /** The stored certificate, or null when absent or unusable (a broken file is ordered anew). */
  CertifiedKey read(String routeName, KeyKind kind) {
    Path file = bundle(routeName, kind);
    if (!Files.isRegularFile(file)) {
      return null;
    }
    try (PEMParser parser = new PEMParser(Files.newBufferedReader(file))) {
      List<X509Certificate> chain = new ArrayList<>();
      PrivateKey key = null;
      JcaPEMKeyConverter keys = new JcaPEMKeyConverter();
      JcaX509CertificateConverter certs = new JcaX509CertificateConverter();
      for (Object o = parser.readObject(); o != null; o = parser.readObject()) {
        if (o instanceof X509CertificateHolder holder) {
          chain.add(certs.getCertificate(holder));
        } else if (o instanceof PEMKeyPair pair) {
          // An EC key written without its public part has no key pair to convert.
          key = keys.getPrivateKey(pair.getPrivateKeyInfo());
        } else if (o instanceof PrivateKeyInfo info) {
          key = keys.getPrivateKey(info);
        }
      }
      if (chain.isEmpty() || key == null || !matches(chain.get(0), key, kind)) {
        return null;
      }
      return new CertifiedKey(file, file, chain, key, kind, null, null);
    } catch (IOException | CertificateException | RuntimeException e) {
      return null;
    }
  }

  /** Replaces a route's certificate of {@code kind} in one rename. */
  CertifiedKey write(String routeName, KeyKind kind, KeyPair key, List<X509Certificate> chain)
      throws IOException {
    Path file = bundle(routeName, kind);
    Files.createDirectories(file.getParent());
    StringWriter pem = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(pem)) {
      for (X509Certificate c : chain) {
        w.writeObject(c);
      }
      // PKCS#8 always carries the curve; a SEC1 "EC PRIVATE KEY" may not, whatever wrote the key.
      w.writeObject(new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(key.getPrivate(), null));
    }
    writeAtomically(file, pem.toString());
    return new CertifiedKey(file, file, chain, key.getPrivate(), kind, null, null);
  }

  /**
   * The order lock of a route, or null when another process (a node sharing the storage) or another
   * order of this one holds it. Closing the channel releases it.
   */
  FileChannel tryLock(String routeName) throws IOException {
    Files.createDirectories(directory(routeName));
    FileChannel channel = lockChannel(directory(routeName).resolve("order.lock"));
    try {
      if (channel.tryLock() != null) {
        return channel;
      }
    } catch (OverlappingFileLockException e) {
      // held by this JVM
    }
    channel.close();
    return null;
  }

  private static FileChannel lockChannel(Path file) throws IOException {
    return FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
  }

  private static void writeAtomically(Path file, String content) throws IOException {
    Path temp = Files.createTempFile(file.getParent(), "." + file.getFileName(), ".tmp");
    try {
      try {
        Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("rw-------"));
      } catch (UnsupportedOperationException e) {
        // not a POSIX file system: the directory's permissions have to do
      }
      Files.writeString(temp, content, StandardCharsets.US_ASCII);
      try (FileChannel c = FileChannel.open(temp, StandardOpenOption.WRITE)) {
        c.force(true);
      }
      try {
        Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(temp);
    }
  }

  private static boolean matches(X509Certificate leaf, PrivateKey key, KeyKind kind) {
    String algorithm = kind == KeyKind.ECDSA ? "SHA256withECDSA" : "SHA256withRSA";
    try {
      byte[] probe = "tollgate".getBytes(StandardCharsets.US_ASCII);
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(key);
      signer.update(probe);
      byte[] sig = signer.sign();
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(leaf.getPublicKey());
      verifier.update(probe);
      return verifier.verify(sig);
    } catch (Exception e) {
      return false;
    }
  }

  /** A route name (a host name) as a directory name. */
  private static String safe(String routeName) {
    return routeName.replaceAll("[^a-z0-9.-]", "_");
  }
}
