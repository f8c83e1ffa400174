package io.tollgate.tls;

import static io.tollgate.tls.TlsFixtures.INTERMEDIATE;
import static io.tollgate.tls.TlsFixtures.auto;
import static io.tollgate.tls.TlsFixtures.build;
import static io.tollgate.tls.TlsFixtures.config;
import static io.tollgate.tls.TlsFixtures.offload;
import static io.tollgate.tls.TlsFixtures.store;
import static io.tollgate.tls.TlsFixtures.write;
import static io.tollgate.tls.TlsFixtures.writeBundle;
import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.config.CertificatesConfig;
import io.tollgate.config.RouteConfig;
import io.tollgate.pki.CertificateAuthority.KeyType;
import io.tollgate.pki.IssuedCertificate;
import io.tollgate.tls.TlsFixtures.Built;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CertificateStoreTest {
  @TempDir Path root;
  Path certs;

  @BeforeEach
  void directory() throws Exception {
    certs = Files.createDirectories(root.resolve("certs"));
  }

  private Built load(RouteConfig... routes) {
    return build(config(store(certs, root), routes));
  }

  private CertificateStore storeOf(Built built) {
    return built.material().certificateStore().orElseThrow();
  }

  @Test
  void indexesBundlesBySanNamesWithOneLabelWildcards() {
    IssuedCertificate shop = INTERMEDIATE.issue(KeyType.EC_P256, "shop.test", "www.shop.test");
    IssuedCertificate wild = INTERMEDIATE.issue(KeyType.EC_P256, "*.apps.test");
    IssuedCertificate exact = INTERMEDIATE.issue(KeyType.EC_P256, "special.apps.test");
    writeBundle(shop, certs, "shop");
    write(wild, certs, "wild"); // wild.pem + wild.key: paired by base name
    writeBundle(exact, certs, "special");

    Built built = load().assertNoErrors();
    assertThat(built.warnings()).isEmpty();
    CertificateStore store = storeOf(built);
    assertThat(store.bundles()).hasSize(3);
    assertThat(store.lookup("www.shop.test").ecdsa().leaf()).isEqualTo(shop.certificate());
    assertThat(store.lookup("SHOP.test.").ecdsa().leaf()).isEqualTo(shop.certificate());
    assertThat(store.lookup("a.apps.test").ecdsa().leaf()).isEqualTo(wild.certificate());
    assertThat(store.lookup("special.apps.test").ecdsa().leaf())
        .as("exact name beats wildcard")
        .isEqualTo(exact.certificate());
    assertThat(store.lookup("a.b.apps.test")).as("one label only").isNull();
    assertThat(store.lookup("apps.test")).isNull();
    assertThat(store.lookup("other.test")).isNull();
    assertThat(store.lookup(null)).isNull();
  }

  @Test
  void ecdsaAndRsaForOneNameAreBothKept() {
    IssuedCertificate ec = INTERMEDIATE.issue(KeyType.EC_P256, "dual.test");
    IssuedCertificate rsa = INTERMEDIATE.issue(KeyType.RSA_2048, "dual.test");
    writeBundle(ec, certs, "dual-ec");
    writeBundle(rsa, certs, "dual-rsa");
    Built built = load(offload(auto(), "dual.test")).assertNoErrors();
    CertificateChoice choice = storeOf(built).lookup("dual.test");
    assertThat(choice.ecdsa().leaf()).isEqualTo(ec.certificate());
    assertThat(choice.rsa().leaf()).isEqualTo(rsa.certificate());
    ServerTls tls = built.material().serverTls("dual.test");
    assertThat(tls.certificateFor("dual.test", true).leaf()).isEqualTo(ec.certificate());
    assertThat(tls.certificateFor("dual.test", false).leaf()).isEqualTo(rsa.certificate());
  }

  @Test
  void twoBundlesClaimingOneNameWithTheSameKeyTypeIsAnErrorNamingBoth() {
    Path a = writeBundle(INTERMEDIATE.issue(KeyType.EC_P256, "same.test"), certs, "a");
    Path b = writeBundle(INTERMEDIATE.issue(KeyType.EC_P256, "x.test", "same.test"), certs, "b");
    Built built = load();
    assertThat(built.errors())
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.path()).isEqualTo("tollgate.certificates.directory");
              assertThat(e.message())
                  .contains("same.test")
                  .contains(a.toString())
                  .contains(b.toString());
            });
  }

  @Test
  void anExpiredBundleLoadsWithAWarningAndIsServedForItsName() {
    IssuedCertificate lapsed =
        INTERMEDIATE
            .leaf("old.test")
            .notBefore(Instant.now().minus(Duration.ofDays(90)))
            .notAfter(Instant.now().minus(Duration.ofDays(1)))
            .issue();
    Path bundle = writeBundle(lapsed, certs, "old");
    writeBundle(INTERMEDIATE.issue(KeyType.EC_P256, "fine.test"), certs, "fine");
    Built built = load(offload(auto(), "old.test"), offload(auto(), "fine.test")).assertNoErrors();
    assertThat(built.warnings())
        .singleElement()
        .satisfies(
            w -> {
              assertThat(w.origin()).isEqualTo(bundle.toString());
              assertThat(w.path()).isEqualTo("tollgate.certificates.directory");
              assertThat(w.message()).contains("expired on");
            });
    assertThat(built.material().serverTls("old.test").certificateFor("old.test", true).leaf())
        .isEqualTo(lapsed.certificate());
  }

  @Test
  void aRenewedBundleBesideTheLapsedOneIsServedWithAWarningNamingTheOld() {
    IssuedCertificate lapsed =
        INTERMEDIATE
            .leaf("renew.test")
            .notBefore(Instant.now().minus(Duration.ofDays(90)))
            .notAfter(Instant.now().minus(Duration.ofDays(1)))
            .issue();
    IssuedCertificate renewed = INTERMEDIATE.issue(KeyType.EC_P256, "renew.test");
    // "a" sorts first, so the lapsed bundle is indexed first and must give way.
    Path old = writeBundle(lapsed, certs, "a-old");
    Path fresh = writeBundle(renewed, certs, "b-new");
    Built built = load(offload(auto(), "renew.test")).assertNoErrors();
    assertThat(storeOf(built).lookup("renew.test").ecdsa().leaf()).isEqualTo(renewed.certificate());
    assertThat(built.warnings())
        .anySatisfy(
            w -> {
              assertThat(w.origin()).isEqualTo(old.toString());
              assertThat(w.message())
                  .contains("also claimed by " + fresh)
                  .contains("remove this file");
            });
  }

  @Test
  void filesWithoutAKeyAreSkippedWithAWarning() {
    IssuedCertificate issued = INTERMEDIATE.issue(KeyType.EC_P256, "ok.test");
    writeBundle(issued, certs, "ok");
    Path caOnly = INTERMEDIATE.writeCertificatePem(certs.resolve("ca.pem"));
    Path keyOnly =
        TlsFixtures.ownerOnly(
            TlsFixtures.writeString(certs.resolve("lonely.key"), issued.keyPem()));
    TlsFixtures.writeString(certs.resolve("notes.txt"), "ignored");
    TlsFixtures.writeString(certs.resolve("ok.pem.ocsp.txt"), "ignored");
    Built built = load().assertNoErrors();
    assertThat(built.warnings()).hasSize(2);
    assertThat(built.warnings())
        .anySatisfy(
            w -> {
              assertThat(w.origin()).isEqualTo(caOnly.toString());
              assertThat(w.message()).startsWith("skipped: certificates but no private key");
            });
    assertThat(built.warnings())
        .anySatisfy(
            w -> {
              assertThat(w.origin()).isEqualTo(keyOnly.toString());
              assertThat(w.message()).startsWith("skipped: a private key without a certificate");
            });
    assertThat(storeOf(built).bundles()).hasSize(1);
  }

  @Test
  void bundlesPassTheSameChecksAsRouteCertificates() {
    IssuedCertificate issued = INTERMEDIATE.issue(KeyType.EC_P256, "bad.test");
    IssuedCertificate other = INTERMEDIATE.issue(KeyType.EC_P256, "bad.test");
    Path bundle =
        TlsFixtures.ownerOnly(
            TlsFixtures.writeString(certs.resolve("bad.pem"), issued.chainPem() + other.keyPem()));
    Built built = load();
    assertThat(built.errors())
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.origin()).isEqualTo(bundle.toString());
              assertThat(e.message()).contains("does not match");
            });
  }

  @Test
  void autoRoutesMustBeCoveredByTheStore() {
    writeBundle(INTERMEDIATE.issue(KeyType.EC_P256, "a.test"), certs, "a");
    writeBundle(INTERMEDIATE.issue(KeyType.EC_P256, "*.wild.test"), certs, "wild");
    writeBundle(INTERMEDIATE.issue(KeyType.EC_P256, "x.half.test"), certs, "half");

    load(offload(auto(), "a.test", "b.wild.test", "*.wild.test")).assertNoErrors();

    Built built = load(offload(auto(), "a.test", "missing.test", "*.half.test"));
    assertThat(built.errors()).hasSize(2);
    assertThat(built.errors())
        .allSatisfy(
            e -> {
              assertThat(e.path()).isEqualTo("tollgate.routes[0].certificate");
              assertThat(e.origin()).isEqualTo("test.conf");
            });
    assertThat(built.errorText())
        .contains("no certificate in " + certs + " covers missing.test")
        .contains("no certificate in " + certs + " covers *.half.test");
  }

  @Test
  void autoRouteSelectsByAndOnlyForItsNames() {
    IssuedCertificate a = INTERMEDIATE.issue(KeyType.EC_P256, "a.test");
    IssuedCertificate wild = INTERMEDIATE.issue(KeyType.EC_P256, "*.wild.test");
    writeBundle(a, certs, "a");
    writeBundle(wild, certs, "wild");
    Built built = load(offload(auto(), "a.test"), offload(auto(), "*.wild.test")).assertNoErrors();
    ServerTls first = built.material().serverTls("a.test");
    ServerTls second = built.material().serverTls("*.wild.test");
    assertThat(first.certificateFor("a.test", true).leaf()).isEqualTo(a.certificate());
    assertThat(second.certificateFor("x.wild.test", true).leaf()).isEqualTo(wild.certificate());
    assertThat(
            second.newHandler(
                io.netty.buffer.UnpooledByteBufAllocator.DEFAULT, "x.y.wild.test", true))
        .as("a wildcard certificate covers one label")
        .isNull();
    assertThat(second.certificateFor(null, true)).isNull();
  }

  @Test
  void autoWithoutADirectoryIsAnError() {
    Built built = build(config(CertificatesConfig.NONE, offload(auto(), "a.test")));
    assertThat(built.errorText()).contains("certificates.directory");
  }

  @Test
  void unreadableDirectoryIsAnError() {
    Path missing = root.resolve("nope");
    Built built = build(config(new CertificatesConfig(Optional.of(missing), Optional.empty())));
    assertThat(built.errors())
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.origin()).isEqualTo(missing.toString());
              assertThat(e.message()).contains("cannot list the certificate directory");
            });
  }
}
