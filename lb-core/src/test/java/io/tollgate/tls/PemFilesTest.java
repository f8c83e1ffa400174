package io.tollgate.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tollgate.pki.CertificateAuthority.KeyType;
import io.tollgate.pki.IssuedCertificate;
import io.tollgate.tls.PemFiles.PemException;
import java.nio.file.Path;
import java.util.Base64;
import javax.crypto.EncryptedPrivateKeyInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class PemFilesTest {
  @TempDir Path dir;

  @ParameterizedTest
  @EnumSource(KeyType.class)
  void readsPkcs8AndTraditionalKeys(KeyType type) throws Exception {
    IssuedCertificate issued = TlsFixtures.INTERMEDIATE.issue(type, "pem.test");
    IssuedCertificate.PemFiles files = issued.writePem(dir, "pem");
    Path traditional = issued.writeTraditionalKey(dir.resolve("trad.key"));

    PemFiles.Content chain = PemFiles.read(files.certificateChain());
    assertThat(chain.certificates()).containsExactlyElementsOf(issued.chain());
    assertThat(chain.keys()).isEmpty();
    assertThat(PemFiles.read(files.privateKey()).keys()).containsExactly(issued.key());

    PemFiles.Content trad = PemFiles.read(traditional);
    assertThat(java.nio.file.Files.readString(traditional))
        .contains(type == KeyType.RSA_2048 ? "BEGIN RSA PRIVATE KEY" : "BEGIN EC PRIVATE KEY");
    assertThat(trad.keys()).hasSize(1);
    KeyKind kind = type == KeyType.RSA_2048 ? KeyKind.RSA : KeyKind.ECDSA;
    assertThat(
            CertificateChecks.keyMatches(
                trad.keys().get(0), issued.certificate().getPublicKey(), kind))
        .isTrue();
  }

  @Test
  void chainAndKeyInOneFile() throws Exception {
    IssuedCertificate issued = TlsFixtures.INTERMEDIATE.issue(KeyType.EC_P256, "one.test");
    Path bundle =
        TlsFixtures.writeString(dir.resolve("one.pem"), issued.keyPem() + issued.chainPem());
    PemFiles.Content content = PemFiles.read(bundle);
    assertThat(content.certificates()).containsExactlyElementsOf(issued.chain());
    assertThat(content.keys()).containsExactly(issued.key());
  }

  @Test
  void encryptedPkcs8KeyIsRefusedWithAClearMessage() throws Exception {
    // Only the structure matters: Tollgate refuses before trying to decrypt anything.
    EncryptedPrivateKeyInfo info =
        new EncryptedPrivateKeyInfo("PBEWithSHA1AndDESede", new byte[64]);
    Path file =
        TlsFixtures.writeString(
            dir.resolve("enc.key"),
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
                + Base64.getMimeEncoder().encodeToString(info.getEncoded())
                + "\n-----END ENCRYPTED PRIVATE KEY-----\n");
    assertThatThrownBy(() -> PemFiles.read(file))
        .isInstanceOf(PemException.class)
        .hasMessageContaining("encrypted")
        .hasMessageContaining("openssl pkey -in " + file);
  }

  @Test
  void encryptedTraditionalKeyIsRefusedToo() {
    Path file =
        TlsFixtures.writeString(
            dir.resolve("enc-trad.key"),
            "-----BEGIN EC PRIVATE KEY-----\n"
                + "Proc-Type: 4,ENCRYPTED\n"
                + "DEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF\n\n"
                + Base64.getEncoder().encodeToString(new byte[48])
                + "\n-----END EC PRIVATE KEY-----\n");
    assertThatThrownBy(() -> PemFiles.read(file))
        .isInstanceOf(PemException.class)
        .hasMessageContaining("the private key is encrypted");
  }

  @Test
  void malformedPemIsAnErrorNotACrash() {
    Path file =
        TlsFixtures.writeString(
            dir.resolve("bad.pem"),
            "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n");
    assertThatThrownBy(() -> PemFiles.read(file)).isInstanceOf(PemException.class);
    assertThatThrownBy(() -> PemFiles.read(dir.resolve("missing.pem")))
        .isInstanceOf(PemException.class)
        .hasMessageContaining("cannot read");
  }

  @Test
  void caBundleWithoutCertificatesIsRefused() {
    Path file = TlsFixtures.writeString(dir.resolve("empty.pem"), "# nothing here\n");
    assertThatThrownBy(() -> PemFiles.readCertificates(file))
        .isInstanceOf(PemException.class)
        .hasMessageContaining("no certificate");
  }
}
