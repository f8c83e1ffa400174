package io.tollgate.inspect;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.handler.ssl.SslProvider;
import io.tollgate.inspect.ParseResult.Done;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link ClientHello#supportsEcdsa()}, which picks between a route's ECDSA and RSA certificates:
 * the rules of RFC 8446 §4.2.3 (TLS 1.3: signature_algorithms alone) and RFC 5246/8422 (TLS 1.2: an
 * ECDHE_ECDSA suite, and ECDSA among the signature algorithms when that extension is sent).
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
    assertThat(
            ecdsa(
                new HelloBuilder()
                    .versions(0x0304, 0x0303)
                    .cipherSuites(TLS13_AES128, ECDHE_RSA_AES128_GCM)
                    .signatureAlgorithms(RSA_PSS_SHA256, ECDSA_P256_SHA256)))
        .isTrue();
  }

  @Test
  void tls13ClientWithoutEcdsaSchemesDoesNot() {
    assertThat(
            ecdsa(
                new HelloBuilder()
                    .versions(0x0304)
                    .cipherSuites(TLS13_AES128)
                    .signatureAlgorithms(RSA_PSS_SHA256, RSA_PKCS1_SHA256)))
        .isFalse();
  }

  @Test
  void tls12ClientNeedsAnEcdsaSuite() {
    assertThat(
            ecdsa(
                new HelloBuilder()
                    .cipherSuites(ECDHE_RSA_AES128_GCM)
                    .signatureAlgorithms(ECDSA_P256_SHA256, RSA_PKCS1_SHA256)))
        .isFalse();
    assertThat(
            ecdsa(
                new HelloBuilder()
                    .cipherSuites(ECDHE_RSA_AES128_GCM, ECDHE_ECDSA_AES128_GCM)
                    .signatureAlgorithms(ECDSA_P256_SHA256, RSA_PKCS1_SHA256)))
        .isTrue();
  }

  @Test
  void tls12ClientWithEcdsaSuiteButOnlyRsaSignaturesDoesNot() {
    assertThat(
            ecdsa(
                new HelloBuilder()
                    .cipherSuites(ECDHE_ECDSA_AES128_GCM)
                    .signatureAlgorithms(RSA_PKCS1_SHA256)))
        .isFalse();
  }

  @Test
  void tls12ClientWithoutSignatureAlgorithmsFollowsItsSuites() {
    assertThat(ecdsa(new HelloBuilder().cipherSuites(ECDHE_ECDSA_AES128_GCM))).isTrue();
    assertThat(ecdsa(new HelloBuilder().cipherSuites(ECDHE_RSA_AES128_GCM))).isFalse();
  }

  @Test
  void greaseAndPrivateSchemesEndingInThreeAreNotEcdsa() {
    assertThat(
            ecdsa(
                new HelloBuilder()
                    .versions(0x0304)
                    .cipherSuites(TLS13_AES128)
                    .signatureAlgorithms(0x0a03, 0xfe03, RSA_PSS_SHA256)))
        .isFalse();
  }

  // ---- curves ------------------------------------------------------------------------------

  private static final int ECDSA_P384_SHA384 = 0x0503;
  private static final int ECDSA_P521_SHA512 = 0x0603;
  private static final int RSA_PSS_SHA384 = 0x0805;

  @Test
  void tls13ClientSigningOnlyWithP384TakesAP384CertificateButNotAP256One() {
    EcdsaSupport ecdsa =
        support(
            new HelloBuilder()
                .versions(0x0304, 0x0303)
                .cipherSuites(TLS13_AES128, ECDHE_ECDSA_AES128_GCM)
                .signatureAlgorithms(ECDSA_P384_SHA384, RSA_PSS_SHA256, RSA_PSS_SHA384));
    assertThat(ecdsa.accepts(EcdsaSupport.Curve.P384, true)).isTrue();
    assertThat(ecdsa.accepts(EcdsaSupport.Curve.P256, true)).isFalse();
    assertThat(ecdsa.accepts(EcdsaSupport.Curve.P521, true)).isFalse();
    // A route limited to TLS 1.2: the pair (sha384, ecdsa) signs with any curve, and without
    // supported_groups any curve is allowed (RFC 8422 §4).
    assertThat(ecdsa.accepts(EcdsaSupport.Curve.P256, false)).isTrue();
  }

  @Test
  void tls13SchemesMapToTheirCurves() {
    EcdsaSupport ecdsa =
        support(
            new HelloBuilder()
                .versions(0x0304)
                .cipherSuites(TLS13_AES128)
                .signatureAlgorithms(ECDSA_P256_SHA256, ECDSA_P521_SHA512));
    assertThat(ecdsa.accepts(EcdsaSupport.Curve.P256, true)).isTrue();
    assertThat(ecdsa.accepts(EcdsaSupport.Curve.P384, true)).isFalse();
    assertThat(ecdsa.accepts(EcdsaSupport.Curve.P521, true)).isTrue();
    assertThat(ecdsa.accepts(null, true)).as("a curve outside the three").isTrue();
  }

  @Test
  void tls12CertificateCurveMustBeAmongSupportedGroups() {
    EcdsaSupport ecdsa =
        support(
            new HelloBuilder()
                .cipherSuites(ECDHE_ECDSA_AES128_GCM, ECDHE_RSA_AES128_GCM)
                .signatureAlgorithms(ECDSA_P256_SHA256, RSA_PKCS1_SHA256)
                .extension(10, new byte[] {0, 4, 0, 29, 0, 24})); // x25519, secp384r1
    assertThat(ecdsa.accepts(EcdsaSupport.Curve.P384, false)).isTrue();
    assertThat(ecdsa.accepts(EcdsaSupport.Curve.P256, false)).isFalse();
    assertThat(ecdsa.accepts(EcdsaSupport.Curve.P256, true))
        .as("a TLS 1.2-only client on a route allowing 1.3 still negotiates 1.2")
        .isFalse();
  }

  @Test
  void tls12SignatureAlgorithmsDoNotBindTheCurve() {
    EcdsaSupport ecdsa =
        support(
            new HelloBuilder()
                .cipherSuites(ECDHE_ECDSA_AES128_GCM)
                .signatureAlgorithms(ECDSA_P384_SHA384)
                .extension(10, new byte[] {0, 4, 0, 23, 0, 24}));
    assertThat(ecdsa.accepts(EcdsaSupport.Curve.P256, false)).isTrue();
    assertThat(ecdsa.accepts(EcdsaSupport.Curve.P384, false)).isTrue();
    assertThat(ecdsa.accepts(EcdsaSupport.Curve.P521, false)).isFalse();
  }

  @Test
  void realClientsOfBothProvidersAcceptP256UnderBothVersions() {
    for (SslProvider provider : List.of(SslProvider.JDK, SslProvider.OPENSSL)) {
      EcdsaSupport ecdsa =
          support(TestHellos.real(provider, "a.test", List.of(), "TLSv1.3", "TLSv1.2"));
      assertThat(ecdsa.accepts(EcdsaSupport.Curve.P256, true)).as("%s", provider).isTrue();
      assertThat(ecdsa.accepts(EcdsaSupport.Curve.P256, false)).as("%s", provider).isTrue();
      assertThat(ecdsa.accepts(EcdsaSupport.Curve.P384, true)).as("%s", provider).isTrue();
    }
  }

  @Test
  void realClientsOfBothProvidersSupportEcdsa() {
    for (SslProvider provider : List.of(SslProvider.JDK, SslProvider.OPENSSL)) {
      assertThat(ecdsa(TestHellos.real(provider, "a.test", List.of(), "TLSv1.3", "TLSv1.2")))
          .as("%s", provider)
          .isTrue();
      assertThat(ecdsa(TestHellos.real(provider, "a.test", List.of(), "TLSv1.2")))
          .as("%s TLS 1.2 only", provider)
          .isTrue();
    }
  }

  private static boolean ecdsa(HelloBuilder hello) {
    return ecdsa(hello.record());
  }

  private static boolean ecdsa(byte[] records) {
    return support(records).any();
  }

  private static EcdsaSupport support(HelloBuilder hello) {
    return support(hello.record());
  }

  private static EcdsaSupport support(byte[] records) {
    ByteBuf buf = TestHellos.buffer(records);
    try {
      ParseResult result = new ClientHelloParser(16384).parse(buf);
      assertThat(result).isInstanceOf(Done.class);
      return ((Done) result).hello().ecdsa();
    } finally {
      buf.release();
    }
  }
}
