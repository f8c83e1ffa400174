package io.tollgate.tls;

import static io.tollgate.tls.TlsFixtures.INTERMEDIATE;
import static io.tollgate.tls.TlsFixtures.ROOT;
import static io.tollgate.tls.TlsFixtures.build;
import static io.tollgate.tls.TlsFixtures.config;
import static io.tollgate.tls.TlsFixtures.files;
import static io.tollgate.tls.TlsFixtures.offload;
import static io.tollgate.tls.TlsFixtures.trusting;
import static io.tollgate.tls.TlsFixtures.write;
import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.config.CertificateFiles;
import io.tollgate.config.CertificatesConfig;
import io.tollgate.config.ConfigError;
import io.tollgate.pki.CertificateAuthority;
import io.tollgate.pki.CertificateAuthority.KeyType;
import io.tollgate.pki.IssuedCertificate;
import io.tollgate.tls.TlsFixtures.Built;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every load-time check on a route's certificate, through {@link TlsMaterial#build}. */
class CertificateChecksTest {
  @TempDir Path dir;

  private Built load(CertificatesConfig certificates, CertificateFiles... files) {
    return build(config(certificates, offload(files(files), "shop.test")));
  }

  private Built load(CertificateFiles... files) {
    return load(trusting(dir), files);
  }

  @Test
  void goodCertificateFromIntermediateLoadsWithoutProblems() {
    IssuedCertificate issued = INTERMEDIATE.issue(KeyType.EC_P256, "shop.test");
    Built built = load(write(issued, dir, "shop")).assertNoErrors();
    assertThat(built.warnings()).isEmpty();
    assertThat(built.material().serverTls("shop.test").certificateFor("shop.test", true).leaf())
        .isEqualTo(issued.certificate());
  }

  @Test
  void keyThatDoesNotMatchTheCertificateIsAnErrorOnTheKeyFile() {
    IssuedCertificate issued = INTERMEDIATE.issue(KeyType.EC_P256, "shop.test");
    IssuedCertificate other = INTERMEDIATE.issue(KeyType.EC_P256, "shop.test");
    CertificateFiles right = write(issued, dir, "shop");
    CertificateFiles wrongKey =
        new CertificateFiles(right.chain(), write(other, dir, "other").key());
    Built built = load(wrongKey);
    assertThat(built.errors())
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.origin()).isEqualTo(wrongKey.key().toString());
              assertThat(e.path()).isEqualTo("tollgate.routes[0].certificate");
              assertThat(e.message()).contains("does not match the certificate");
            });
  }

  @Test
  void rsaKeyForEcCertificateIsAMismatchToo() {
    IssuedCertificate ec = INTERMEDIATE.issue(KeyType.EC_P256, "shop.test");
    IssuedCertificate rsa = INTERMEDIATE.issue(KeyType.RSA_2048, "shop.test");
    CertificateFiles mixed =
        new CertificateFiles(write(ec, dir, "ec").chain(), write(rsa, dir, "rsa").key());
    assertThat(load(mixed).errorText()).contains("does not match the certificate");
  }

  @Test
  // Until issue 9 these were errors that failed the whole config (every tenant) for one tenant's
  // lapsed certificate; now the certificate loads, is served as it is, and is warned about.
  void expiredCertificateLoadsWithAWarningGivingItsDates() {
    Instant notAfter =
        Instant.now().minus(Duration.ofDays(2)).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
    IssuedCertificate expired =
        INTERMEDIATE
            .leaf("shop.test")
            .notBefore(notAfter.minus(Duration.ofDays(90)))
            .notAfter(notAfter)
            .issue();
    CertificateFiles files = write(expired, dir, "expired");
    Built built = load(files).assertNoErrors();
    assertThat(built.warnings())
        .singleElement()
        .satisfies(
            w -> {
              assertThat(w.origin()).isEqualTo(files.chain().toString());
              assertThat(w.path()).isEqualTo("tollgate.routes[0].certificate");
              assertThat(w.message())
                  .contains("expired on " + notAfter)
                  .contains("valid from")
                  .contains("renew");
            });
    assertThat(built.material().serverTls("shop.test").certificateFor("shop.test", true).leaf())
        .isEqualTo(expired.certificate());
  }

  @Test
  void notYetValidCertificateLoadsWithAWarning() {
    Instant notBefore = Instant.now().plus(Duration.ofDays(3));
    IssuedCertificate future =
        INTERMEDIATE
            .leaf("shop.test")
            .notBefore(notBefore)
            .notAfter(notBefore.plus(Duration.ofDays(90)))
            .issue();
    Built built = load(write(future, dir, "future")).assertNoErrors();
    assertThat(built.warningText()).contains("is not valid yet").contains("check the clock");
  }

  @Test
  void expiredIntermediateIsAWarningAndTheChainExpiryIsTheEarliest() {
    Instant lapsed =
        Instant.now().minus(Duration.ofDays(1)).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
    CertificateAuthority oldIntermediate =
        ROOT.intermediate(
            "Lapsed intermediate", KeyType.EC_P256, lapsed.minus(Duration.ofDays(365)), lapsed);
    IssuedCertificate issued =
        oldIntermediate
            .leaf("shop.test")
            .notBefore(lapsed.minus(Duration.ofDays(30)))
            .notAfter(Instant.now().plus(Duration.ofDays(60)))
            .issue();
    Built built = load(write(issued, dir, "shop")).assertNoErrors();
    assertThat(built.warningText()).contains("certificate 2 of the chain").contains("expired on");
    CertifiedKey loaded = built.material().serverTls("shop.test").certificateFor("shop.test", true);
    assertThat(loaded.notAfter()).isEqualTo(lapsed);
  }

  @Test
  void certificateExpiringWithinThirtyDaysIsAWarning() {
    IssuedCertificate soon =
        INTERMEDIATE.leaf("shop.test").notAfter(Instant.now().plus(Duration.ofDays(10))).issue();
    CertificateFiles files = write(soon, dir, "soon");
    Built built = load(files).assertNoErrors();
    assertThat(built.warnings())
        .singleElement()
        .satisfies(
            w -> {
              assertThat(w.origin()).isEqualTo(files.chain().toString());
              assertThat(w.path()).isEqualTo("tollgate.routes[0].certificate");
              assertThat(w.message()).contains("expires on").contains("(in 9 days)");
            });
  }

  @Test
  void missingIntermediateIsAWarningThatSaysHowToFixIt() {
    IssuedCertificate issued = INTERMEDIATE.issue(KeyType.EC_P256, "shop.test");
    Path chain =
        TlsFixtures.writeString(dir.resolve("leaf-only.pem"), pem(List.of(issued.certificate())));
    CertificateFiles files = new CertificateFiles(chain, write(issued, dir, "shop").key());
    Built built = load(files).assertNoErrors();
    assertThat(built.warnings())
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.origin()).isEqualTo(chain.toString());
              assertThat(e.message())
                  .contains("chain incomplete")
                  .contains("intermediate certificate is probably missing")
                  .contains("append")
                  .contains("certificates.trusted-roots")
                  .contains("Tollgate TLS test intermediate");
            });
  }

  @Test
  void leafIssuedByAnUntrustedRootNeedsTheRootInTrustedRoots() {
    IssuedCertificate direct = ROOT.issue(KeyType.EC_P256, "shop.test");
    CertificateFiles files = write(direct, dir, "direct");
    assertThat(load(CertificatesConfig.NONE, files).assertNoErrors().warningText())
        .contains("chain incomplete");
    assertThat(load(trusting(dir), files).assertNoErrors().warnings()).isEmpty();
  }

  @Test
  void chainIncludingItsRootIsComplete() {
    IssuedCertificate issued = INTERMEDIATE.issue(KeyType.EC_P256, "shop.test");
    Path chain =
        TlsFixtures.writeString(
            dir.resolve("full.pem"), issued.chainPem() + pem(List.of(ROOT.certificate())));
    load(CertificatesConfig.NONE, new CertificateFiles(chain, write(issued, dir, "k").key()))
        .assertNoErrors();
  }

  @Test
  void selfSignedCertificateIsComplete() {
    CertificateAuthority selfSigned = CertificateAuthority.create("shop.test", KeyType.EC_P256);
    // A root's own key and certificate stand in for a self-signed server certificate.
    IssuedCertificate leaf = selfSigned.issue(KeyType.EC_P256, "shop.test");
    Path chain =
        TlsFixtures.writeString(dir.resolve("self.pem"), pem(List.of(selfSigned.certificate())));
    Built built =
        load(CertificatesConfig.NONE, new CertificateFiles(chain, write(leaf, dir, "x").key()));
    // The key is the leaf's, not the root's: a mismatch, but no chain complaint.
    assertThat(built.errorText()).contains("does not match");
    assertThat(built.warningText()).doesNotContain("chain incomplete");
  }

  @Test
  void chainInWrongOrderIsAnError() {
    CertificateAuthority deeper = INTERMEDIATE.intermediate("Second level", KeyType.EC_P256);
    // deeper's leaves chain: leaf, Second level, intermediate. Swap the two intermediates.
    IssuedCertificate issued = deeper.issue(KeyType.EC_P256, "shop.test");
    assertThat(issued.chain()).hasSize(1 + 2);
    Path chain =
        TlsFixtures.writeString(
            dir.resolve("swapped.pem"),
            pem(List.of(issued.chain().get(0), issued.chain().get(2), issued.chain().get(1))));
    Built built = load(new CertificateFiles(chain, write(issued, dir, "k").key()));
    assertThat(built.errors())
        .singleElement()
        .satisfies(
            e ->
                assertThat(e.message())
                    .contains("out of order")
                    .contains("leaf certificate first"));
  }

  @Test
  void worldReadableKeyIsAWarning() throws Exception {
    IssuedCertificate issued = INTERMEDIATE.issue(KeyType.EC_P256, "shop.test");
    CertificateFiles files = write(issued, dir, "shop");
    Files.setPosixFilePermissions(files.key(), PosixFilePermissions.fromString("rw-r--r--"));
    Built built = load(files).assertNoErrors();
    assertThat(built.warnings())
        .singleElement()
        .satisfies(
            w -> {
              assertThat(w.origin()).isEqualTo(files.key().toString());
              assertThat(w.message()).contains("readable by every user").contains("chmod 600");
            });
  }

  @Test
  void groupReadableKeyIsAWarningToo() throws Exception {
    IssuedCertificate issued = INTERMEDIATE.issue(KeyType.EC_P256, "shop.test");
    CertificateFiles files = write(issued, dir, "grouped");
    Files.setPosixFilePermissions(files.key(), PosixFilePermissions.fromString("rw-r-----"));
    Built built = load(files).assertNoErrors();
    assertThat(built.warnings())
        .singleElement()
        .satisfies(
            w -> {
              assertThat(w.origin()).isEqualTo(files.key().toString());
              assertThat(w.message()).contains("readable by its group").contains("chmod 600");
            });
  }

  @Test
  void routeWithOneEcdsaAndOneRsaCertificateLoadsBoth() {
    CertificateFiles ec = write(INTERMEDIATE.issue(KeyType.EC_P256, "shop.test"), dir, "ec");
    CertificateFiles rsa = write(INTERMEDIATE.issue(KeyType.RSA_2048, "shop.test"), dir, "rsa");
    ServerTls tls = load(ec, rsa).assertNoErrors().material().serverTls("shop.test");
    assertThat(tls.certificateFor("shop.test", true).kind()).isEqualTo(KeyKind.ECDSA);
    assertThat(tls.certificateFor("shop.test", false).kind()).isEqualTo(KeyKind.RSA);
  }

  @Test
  void routeWithTwoCertificatesOfTheSameTypeIsAnError() {
    CertificateFiles a = write(INTERMEDIATE.issue(KeyType.EC_P256, "shop.test"), dir, "a");
    CertificateFiles b = write(INTERMEDIATE.issue(KeyType.EC_P256, "shop.test"), dir, "b");
    Built built = load(a, b);
    assertThat(built.errors())
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.path()).isEqualTo("tollgate.routes[0].certificate");
              assertThat(e.message())
                  .contains("two ECDSA certificates")
                  .contains(a.chain().toString());
            });
  }

  @Test
  void chainAndKeyInOneFileAndTraditionalKeysLoad() {
    IssuedCertificate ec = INTERMEDIATE.issue(KeyType.EC_P256, "shop.test");
    Path bundle = TlsFixtures.writeBundle(ec, dir, "bundle");
    load(new CertificateFiles(bundle, bundle)).assertNoErrors();

    IssuedCertificate rsa = INTERMEDIATE.issue(KeyType.RSA_2048, "shop.test");
    Path sec1 = ec.writeTraditionalKey(dir.resolve("ec-sec1.key"));
    Path pkcs1 = rsa.writeTraditionalKey(dir.resolve("rsa-pkcs1.key"));
    load(
            new CertificateFiles(write(ec, dir, "ec").chain(), sec1),
            new CertificateFiles(write(rsa, dir, "rsa").chain(), pkcs1))
        .assertNoErrors();
  }

  @Test
  void unreadableFilesAreErrorsNotExceptions() {
    CertificateFiles missing =
        new CertificateFiles(dir.resolve("nope.pem"), dir.resolve("nope.key"), Optional.empty());
    Built built = load(missing);
    assertThat(built.errors())
        .extracting(ConfigError::origin)
        .containsExactly(dir.resolve("nope.pem").toString());
  }

  static String pem(List<java.security.cert.X509Certificate> certificates) {
    StringBuilder out = new StringBuilder();
    java.util.Base64.Encoder base64 = java.util.Base64.getMimeEncoder(64, new byte[] {'\n'});
    for (java.security.cert.X509Certificate c : certificates) {
      try {
        out.append("-----BEGIN CERTIFICATE-----\n")
            .append(base64.encodeToString(c.getEncoded()))
            .append("\n-----END CERTIFICATE-----\n");
      } catch (java.security.cert.CertificateEncodingException e) {
        throw new IllegalStateException(e);
      }
    }
    return out.toString();
  }
}
