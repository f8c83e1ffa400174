package io.tollgate.acme;

import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.pki.CertificateAuthority;
import io.tollgate.pki.IssuedCertificate;
import io.tollgate.tls.CertifiedKey;
import io.tollgate.tls.KeyKind;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The files of tollgate.acme.storage: one-file bundles, unusable files ignored, the order lock. */
class AcmeStorageTest {
  @TempDir Path dir;

  private static KeyPair pair(IssuedCertificate issued) {
    return new KeyPair(issued.certificate().getPublicKey(), issued.key());
  }

  @Test
  void bundleRoundTripsAndReplacesInOneRename() throws Exception {
    CertificateAuthority ca =
        CertificateAuthority.create("Storage CA", CertificateAuthority.KeyType.EC_P256);
    IssuedCertificate first = ca.issue(CertificateAuthority.KeyType.EC_P256, "shop.test");
    IssuedCertificate second = ca.issue(CertificateAuthority.KeyType.EC_P256, "shop.test");
    AcmeStorage storage = new AcmeStorage(dir.resolve("acme"));

    assertThat(storage.read("shop.test", KeyKind.ECDSA)).isNull();
    storage.write("shop.test", KeyKind.ECDSA, pair(first), first.chain());
    CertifiedKey read = storage.read("shop.test", KeyKind.ECDSA);
    assertThat(read.leaf()).isEqualTo(first.certificate());
    assertThat(read.dnsNames()).containsExactly("shop.test");

    storage.write("shop.test", KeyKind.ECDSA, pair(second), second.chain());
    assertThat(storage.read("shop.test", KeyKind.ECDSA).leaf()).isEqualTo(second.certificate());
    // Only the bundle is left: no temporary files behind.
    try (var files = Files.list(storage.directory("shop.test"))) {
      assertThat(files.map(p -> p.getFileName().toString())).containsExactly("ecdsa.pem");
    }
  }

  @Test
  void aKeyThatDoesNotMatchOrABrokenFileIsIgnored() throws Exception {
    CertificateAuthority ca =
        CertificateAuthority.create("Storage CA", CertificateAuthority.KeyType.EC_P256);
    IssuedCertificate a = ca.issue(CertificateAuthority.KeyType.EC_P256, "shop.test");
    IssuedCertificate b = ca.issue(CertificateAuthority.KeyType.EC_P256, "shop.test");
    AcmeStorage storage = new AcmeStorage(dir);
    storage.write(
        "shop.test",
        KeyKind.ECDSA,
        new KeyPair(a.certificate().getPublicKey(), b.key()),
        a.chain());
    assertThat(storage.read("shop.test", KeyKind.ECDSA)).isNull();

    Files.writeString(
        storage.bundle("shop.test", KeyKind.ECDSA), "-----BEGIN CERTIFICATE-----\nbroken");
    assertThat(storage.read("shop.test", KeyKind.ECDSA)).isNull();
  }

  @Test
  void oneOrderLockPerName() throws Exception {
    AcmeStorage storage = new AcmeStorage(dir);
    try (FileChannel held = storage.tryLock("shop.test")) {
      assertThat(held).isNotNull();
      assertThat(storage.tryLock("shop.test")).isNull();
      try (FileChannel other = storage.tryLock("blog.test")) {
        assertThat(other).isNotNull();
      }
    }
    try (FileChannel again = storage.tryLock("shop.test")) {
      assertThat(again).isNotNull();
    }
  }

  @Test
  void accountKeyIsMadeOnceAndKept() throws Exception {
    AcmeStorage storage = new AcmeStorage(dir.resolve("acme"));
    KeyPair key = storage.accountKey();
    assertThat(new AcmeStorage(dir.resolve("acme")).accountKey().getPublic())
        .isEqualTo(key.getPublic());
  }

  @Test
  void backoffDoublesWithJitterAndIsCapped() {
    Duration base = Duration.ofSeconds(5);
    for (int failures = 1; failures <= 30; failures++) {
      Duration d = AcmeManager.backoff(failures, base);
      long full =
          Math.min(base.toMillis() << Math.min(failures - 1, 20), Duration.ofHours(1).toMillis());
      assertThat(d.toMillis()).isBetween(full / 2, full);
    }
  }
}
