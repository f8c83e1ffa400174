package io.tollgate.inspect;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.handler.ssl.SslProvider;
import io.tollgate.inspect.ParseResult.Done;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link ClientHello#supportsEcdsa()}, which picks between a route's ECDSA and RSA certificates:
 * the rules of RFC 8446 §4.2.3 (TLS 1.3: signature_algorithms alone) and RFC 5246/8422 (TLS 1.2:
 * an ECDHE_ECDSA suite, and ECDSA among the signature algorithms when that extension is sent).
 */
class EcdsaSupportTest {
  private static final int TLS13_AES128 = 0x1301;
  private static final int ECDHE_ECDSA_AES128_GCM = 0xC02B;
  private static final int ECDHE_RSA_AES128_GCM = 0xC02F;
  private static final int ECDSA_P256_SHA256 = 0x0403;
  private static final int RSA_PSS_SHA256 = 0x0804;
  private static final int RSA_PKCS1_SHA256 = 0x0401;

  @Test
  void tls13ClientListingEcdsaSchemeSupportsIt() {
    assertThat(ecdsa(new HelloBuilder().versions(0x0304, 0x0303)
        .cipherSuites(TLS13_AES128, ECDHE_RSA_AES128_GCM)
        .signatureAlgorithms(RSA_PSS_SHA256, ECDSA_P256_SHA256))).isTrue();
  }

  @Test
  void tls13ClientWithoutEcdsaSchemesDoesNot() {
    assertThat(ecdsa(new HelloBuilder().versions(0x0304)
        .cipherSuites(TLS13_AES128)
        .signatureAlgorithms(RSA_PSS_SHA256, RSA_PKCS1_SHA256))).isFalse();
  }

  @Test
  void tls12ClientNeedsAnEcdsaSuite() {
    assertThat(ecdsa(new HelloBuilder().cipherSuites(ECDHE_RSA_AES128_GCM)
        .signatureAlgorithms(ECDSA_P256_SHA256, RSA_PKCS1_SHA256))).isFalse();
    assertThat(ecdsa(new HelloBuilder().cipherSuites(ECDHE_RSA_AES128_GCM, ECDHE_ECDSA_AES128_GCM)
        .signatureAlgorithms(ECDSA_P256_SHA256, RSA_PKCS1_SHA256))).isTrue();
  }

  @Test
  void tls12ClientWithEcdsaSuiteButOnlyRsaSignaturesDoesNot() {
    assertThat(ecdsa(new HelloBuilder().cipherSuites(ECDHE_ECDSA_AES128_GCM)
        .signatureAlgorithms(RSA_PKCS1_SHA256))).isFalse();
  }

  @Test
  void tls12ClientWithoutSignatureAlgorithmsFollowsItsSuites() {
    assertThat(ecdsa(new HelloBuilder().cipherSuites(ECDHE_ECDSA_AES128_GCM))).isTrue();
    assertThat(ecdsa(new HelloBuilder().cipherSuites(ECDHE_RSA_AES128_GCM))).isFalse();
  }

  @Test
  void greaseAndPrivateSchemesEndingInThreeAreNotEcdsa() {
    assertThat(ecdsa(new HelloBuilder().versions(0x0304).cipherSuites(TLS13_AES128)
        .signatureAlgorithms(0x0a03, 0xfe03, RSA_PSS_SHA256))).isFalse();
  }

  @Test
  void realClientsOfBothProvidersSupportEcdsa() {
    for (SslProvider provider : List.of(SslProvider.JDK, SslProvider.OPENSSL)) {
      assertThat(ecdsa(TestHellos.real(provider, "a.test", List.of(), "TLSv1.3", "TLSv1.2")))
          .as("%s", provider).isTrue();
      assertThat(ecdsa(TestHellos.real(provider, "a.test", List.of(), "TLSv1.2")))
          .as("%s TLS 1.2 only", provider).isTrue();
    }
  }

  private static boolean ecdsa(HelloBuilder hello) {
    return ecdsa(hello.record());
  }

  private static boolean ecdsa(byte[] records) {
    ByteBuf buf = TestHellos.buffer(records);
    try {
      ParseResult result = new ClientHelloParser(16384).parse(buf);
      assertThat(result).isInstanceOf(Done.class);
      return ((Done) result).hello().supportsEcdsa();
    } finally {
      buf.release();
    }
  }
}
