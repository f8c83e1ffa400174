package io.tollgate.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.pki.CertificateAuthority.KeyType;
import io.tollgate.pki.IssuedCertificate;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import javax.crypto.EncryptedPrivateKeyInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The JDK-only reader of the common PEM file reads exactly what BouncyCastle's parser reads, and
 * hands every other file back to it (null), so the parser's errors and its other formats stay.
 */
class PlainPemTest {
  private static final Path FILE = Path.of("test.pem");

  @ParameterizedTest
  @EnumSource(KeyType.class)
  void readsChainsAndPkcs8KeysAsTheParserDoes(KeyType type) throws Exception {
    IssuedCertificate issued = TlsFixtures.INTERMEDIATE.issue(type, "plain.test");
    for (String text :
        new String[] {
          issued.chainPem(),
          issued.keyPem(),
          issued.keyPem() + issued.chainPem(),
          // What tools write around blocks (openssl pkcs12's attributes, comments), and CRLF.
          "Bag Attributes\n    friendlyName: plain\n" + issued.chainPem() + "# end\n",
          issued.chainPem().replace("\n", "\r\n") + issued.keyPem().replace("\n", "\r\n")
        }) {
      byte[] content = text.getBytes(StandardCharsets.US_ASCII);
      PemFiles.Content plain = PlainPem.read(content);
      PemFiles.Content parsed = PemFiles.parse(FILE, content);
      assertThat(plain).as(text).isNotNull();
      assertThat(plain.certificates()).isEqualTo(parsed.certificates());
      // By their numbers: the parser's key object is BouncyCastle's once its provider is
      // registered (ACME does; so do tests), with another encoding; the key is the same.
      assertThat(encodings(plain.keys())).isEqualTo(encodings(parsed.keys()));
    }
    PemFiles.Content both =
        PlainPem.read((issued.keyPem() + issued.chainPem()).getBytes(StandardCharsets.US_ASCII));
    assertThat(both.certificates()).containsExactlyElementsOf(issued.chain());
    assertThat(both.keys()).containsExactly(issued.key());
  }

  /** A key's numbers, whoever's object holds them. */
  private static java.util.List<String> encodings(java.util.List<java.security.PrivateKey> keys) {
    return keys.stream()
        .map(
            k ->
                k instanceof java.security.interfaces.ECPrivateKey ec
                    ? "EC " + ec.getS() + " " + ec.getParams().getCurve()
                    : "RSA "
                        + ((java.security.interfaces.RSAPrivateKey) k).getModulus()
                        + " "
                        + ((java.security.interfaces.RSAPrivateKey) k).getPrivateExponent())
        .toList();
  }

  @ParameterizedTest
  @EnumSource(KeyType.class)
  void leavesTraditionalKeysToTheParser(KeyType type) throws Exception {
    IssuedCertificate issued = TlsFixtures.INTERMEDIATE.issue(type, "plain.test");
    byte[] content = issued.traditionalKeyPem().getBytes(StandardCharsets.US_ASCII);
    assertThat(PlainPem.read(content)).isNull();
    assertThat(PemFiles.read(FILE, content).keys()).hasSize(1);
  }

  @Test
  void leavesEverythingElseToTheParser() throws Exception {
    IssuedCertificate issued = TlsFixtures.INTERMEDIATE.issue(KeyType.EC_P256, "plain.test");
    String encrypted =
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
            + Base64.getMimeEncoder()
                .encodeToString(
                    new EncryptedPrivateKeyInfo("PBEWithSHA1AndDESede", new byte[64]).getEncoded())
            + "\n-----END ENCRYPTED PRIVATE KEY-----\n";
    String withHeaders =
        "-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n"
            + "DEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF\n\n"
            + Base64.getEncoder().encodeToString(new byte[48])
            + "\n-----END EC PRIVATE KEY-----\n";
    String parameters =
        "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"
            + issued.keyPem();
    String notACertificate =
        "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n";
    String unterminated = issued.chainPem().replace("-----END CERTIFICATE-----", "");
    String midLine = "junk " + issued.chainPem();
    byte[] certificate = issued.certificate().getEncoded();
    byte[] trailing = java.util.Arrays.copyOf(certificate, certificate.length + 4);
    String extraBytes =
        "-----BEGIN CERTIFICATE-----\n"
            + Base64.getMimeEncoder().encodeToString(trailing)
            + "\n-----END CERTIFICATE-----\n";
    String publicKey =
        "-----BEGIN PUBLIC KEY-----\n"
            + Base64.getMimeEncoder()
                .encodeToString(issued.certificate().getPublicKey().getEncoded())
            + "\n-----END PUBLIC KEY-----\n"
            + issued.chainPem();
    for (String text :
        new String[] {
          encrypted,
          withHeaders,
          parameters,
          notACertificate,
          unterminated,
          midLine,
          publicKey,
          extraBytes
        }) {
      assertThat(PlainPem.read(text.getBytes(StandardCharsets.US_ASCII))).as(text).isNull();
    }
    // The parser still reads what it read before: the key after EC PARAMETERS, the certificate
    // after a public key (ignored); and refuses a certificate with bytes after it.
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> PemFiles.read(FILE, extraBytes.getBytes(StandardCharsets.US_ASCII)))
        .isInstanceOf(PemFiles.PemException.class);
    assertThat(PemFiles.read(FILE, parameters.getBytes(StandardCharsets.US_ASCII)).keys())
        .containsExactly(issued.key());
    assertThat(PemFiles.read(FILE, publicKey.getBytes(StandardCharsets.US_ASCII)).certificates())
        .containsExactlyElementsOf(issued.chain());
  }

  @Test
  void aFileWithoutBlocksHoldsNothingEitherWay() throws Exception {
    byte[] content = "# nothing here\n".getBytes(StandardCharsets.US_ASCII);
    assertThat(PlainPem.read(content).certificates()).isEmpty();
    assertThat(PlainPem.read(content).keys()).isEmpty();
    assertThat(PemFiles.parse(FILE, content).certificates()).isEmpty();
  }
}
