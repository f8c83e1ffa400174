package io.tollgate.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.inspect.EcdsaSupport.Curve;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.spec.ECGenParameterSpec;
import org.junit.jupiter.api.Test;

/** The curve of a certificate key, which the ECDSA/RSA choice matches against the client's. */
class EcCurvesTest {
  @Test
  void namedCurvesAreRecognised() throws Exception {
    assertThat(EcCurves.of(ecKey("secp256r1"))).isEqualTo(Curve.P256);
    assertThat(EcCurves.of(ecKey("secp384r1"))).isEqualTo(Curve.P384);
    assertThat(EcCurves.of(ecKey("secp521r1"))).isEqualTo(Curve.P521);
  }

  @Test
  void rsaKeysHaveNoCurve() throws Exception {
    KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
    rsa.initialize(1024);
    assertThat(EcCurves.of(rsa.generateKeyPair().getPublic())).isNull();
  }

  private static PublicKey ecKey(String curve) throws Exception {
    KeyPairGenerator ec = KeyPairGenerator.getInstance("EC");
    ec.initialize(new ECGenParameterSpec(curve));
    return ec.generateKeyPair().getPublic();
  }
}
