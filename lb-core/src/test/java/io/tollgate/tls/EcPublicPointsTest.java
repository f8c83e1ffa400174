package io.tollgate.tls;

import static io.tollgate.tls.TlsFixtures.INTERMEDIATE;
import static io.tollgate.tls.TlsFixtures.build;
import static io.tollgate.tls.TlsFixtures.config;
import static io.tollgate.tls.TlsFixtures.files;
import static io.tollgate.tls.TlsFixtures.offload;
import static io.tollgate.tls.TlsFixtures.trusting;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.tollgate.config.CertificateFiles;
import io.tollgate.pki.CertificateAuthority.KeyType;
import io.tollgate.pki.IssuedCertificate;
import io.tollgate.testkit.CommandLineTools;
import io.tollgate.tls.TlsFixtures.Built;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.interfaces.ECPrivateKey;
import java.security.spec.X509EncodedKeySpec;
import java.time.Duration;
import java.util.Base64;
import javax.net.ssl.SSLException;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The key/certificate match by the point a PKCS#8 EC key names ({@link EcPublicPoints}), and its
 * fallback to the multiplication for keys that name none.
 */
class EcPublicPointsTest {
  @TempDir Path dir;

  private static ECPrivateKey readKey(Path file) throws Exception {
    return (ECPrivateKey) PemFiles.read(file).keys().get(0);
  }

  private CertificateFiles openSslFiles(
      IssuedCertificate chainOf, IssuedCertificate keyOf, String n) throws Exception {
    CertificateFiles written = TlsFixtures.write(chainOf, dir, n);
    return new CertificateFiles(
        written.chain(), keyOf.writeOpenSslKey(dir.resolve(n + "-ossl.key")));
  }

  @Test
  void theOpenSslFormNamesTheCertificatesPointAndTheJdkFormNamesNone() throws Exception {
    IssuedCertificate issued = INTERMEDIATE.issue(KeyType.EC_P256, "shop.test");
    PrivateKey openSsl = readKey(issued.writeOpenSslKey(dir.resolve("ossl.key")));
    byte[] point = EcPublicPoints.ofPublic(issued.certificate().getPublicKey());
    assertThat(point).hasSize(65).startsWith(4); // uncompressed P-256 point
    assertThat(EcPublicPoints.claimedBy(openSsl)).isEqualTo(point);
    assertThat(EcPublicPoints.claimedBy(issued.key())).isNull();

    IssuedCertificate rsa = INTERMEDIATE.issue(KeyType.RSA_2048, "rsa.test");
    assertThat(EcPublicPoints.claimedBy(rsa.key())).isNull();
    assertThat(EcPublicPoints.claimedBy(readKey(issued.writeTraditionalKey(dir.resolve("sec1")))))
        .as("a SEC 1 file read by BouncyCastle, re-encoded as PKCS#8")
        .isEqualTo(point);
  }

  @Test
  void whatOpenSslItselfWritesNamesItsPoint() throws Exception {
    var openssl = CommandLineTools.which("openssl");
    assumeThat(openssl).as("openssl is not installed").isPresent();
    Path key = dir.resolve("genpkey.key");
    Path pub = dir.resolve("genpkey.pub");
    String tool = openssl.get().toString();
    Duration t = Duration.ofSeconds(30);
    assertThat(
            CommandLineTools.run(
                    t,
                    tool,
                    "genpkey",
                    "-algorithm",
                    "EC",
                    "-pkeyopt",
                    "ec_paramgen_curve:P-256",
                    "-out",
                    key.toString())
                .ok())
        .isTrue();
    assertThat(
            CommandLineTools.run(
                    t, tool, "pkey", "-in", key.toString(), "-pubout", "-out", pub.toString())
                .ok())
        .isTrue();
    String pem = Files.readString(pub).replaceAll("-----[A-Z ]+-----|\\s", "");
    PublicKey publicKey =
        KeyFactory.getInstance("EC")
            .generatePublic(new X509EncodedKeySpec(Base64.getDecoder().decode(pem)));
    assertThat(EcPublicPoints.claimedBy(readKey(key)))
        .isNotNull()
        .isEqualTo(EcPublicPoints.ofPublic(publicKey));
  }

  @Test
  void keysOfEitherFormLoadWithTheirCertificateAndAnotherCertificatesKeyIsAMismatch()
      throws Exception {
    IssuedCertificate issued = INTERMEDIATE.issue(KeyType.EC_P256, "shop.test");
    IssuedCertificate other = INTERMEDIATE.issue(KeyType.EC_P256, "shop.test");
    load(openSslFiles(issued, issued, "right")).assertNoErrors();
    load(TlsFixtures.write(issued, dir, "jdk")).assertNoErrors();
    assertThat(load(openSslFiles(issued, other, "wrong")).errorText())
        .contains("does not match the certificate");
    assertThat(
            CertificateChecks.keyMatches(
                readKey(other.writeOpenSslKey(dir.resolve("o.key"))),
                issued.certificate().getPublicKey(),
                KeyKind.ECDSA))
        .isFalse();
  }

  private Built load(CertificateFiles files) {
    return build(config(trusting(dir), offload(files(files), "shop.test")));
  }

  static java.util.List<String> providers() {
    return Providers.available();
  }

  /**
   * A key file whose named point is the certificate's but whose scalar is another key's is taken at
   * its word at load; no handshake can succeed with it (BoringSSL checks the pair when it parses
   * the key, and with the JDK the client's check of the signature fails).
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("providers")
  void aKeyFileWhosePointAndScalarDisagreeServesNoHandshake(String provider) throws Exception {
    IssuedCertificate issued = INTERMEDIATE.issue(KeyType.EC_P256, "shop.test");
    IssuedCertificate other = INTERMEDIATE.issue(KeyType.EC_P256, "shop.test");
    ECPrivateKey otherKey = (ECPrivateKey) other.key();
    PrivateKeyInfo info = PrivateKeyInfo.getInstance(otherKey.getEncoded());
    byte[] forged =
        new PrivateKeyInfo(
                info.getPrivateKeyAlgorithm(),
                new org.bouncycastle.asn1.sec.ECPrivateKey(
                    256,
                    otherKey.getS(),
                    SubjectPublicKeyInfo.getInstance(
                            issued.certificate().getPublicKey().getEncoded())
                        .getPublicKeyData(),
                    null))
            .getEncoded();
    Path keyFile =
        TlsFixtures.writeString(
            dir.resolve("forged.key"),
            "-----BEGIN PRIVATE KEY-----\n"
                + Base64.getMimeEncoder().encodeToString(forged)
                + "\n-----END PRIVATE KEY-----\n");
    CertificateFiles files =
        new CertificateFiles(TlsFixtures.write(issued, dir, "shop").chain(), keyFile);

    Built built = Providers.with(provider, () -> load(files));
    built.assertNoErrors();
    try (ServerTlsHarness server = new ServerTlsHarness(built.material().serverTls("shop.test"))) {
      server.sni = "shop.test";
      assertThatThrownBy(() -> TlsFixtures.client(server.port()).sni("shop.test").connect().close())
          .isInstanceOf(SSLException.class);
      assertThat(server.nextOutcome().success()).isFalse();
    }
  }
}
