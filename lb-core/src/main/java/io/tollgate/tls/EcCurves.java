package io.tollgate.tls;

import io.tollgate.inspect.EcdsaSupport.Curve;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;

/** The named curve of an ECDSA certificate's key, to match it with what a client accepts. */
final class EcCurves {
  private EcCurves() {}

  /** The curve of {@code key}, or {@code null} when it is not an EC key on P-256/384/521. */
  static Curve of(PublicKey key) {
    if (!(key instanceof ECPublicKey ec)) {
      return null;
    }
    try {
      AlgorithmParameters parameters = AlgorithmParameters.getInstance("EC");
      parameters.init(ec.getParams());
      String name = parameters.getParameterSpec(ECGenParameterSpec.class).getName();
      return switch (name) {
        case "1.2.840.10045.3.1.7", "secp256r1", "NIST P-256", "X9.62 prime256v1" -> Curve.P256;
        case "1.3.132.0.34", "secp384r1", "NIST P-384" -> Curve.P384;
        case "1.3.132.0.35", "secp521r1", "NIST P-521" -> Curve.P521;
        default -> null;
      };
    } catch (GeneralSecurityException | RuntimeException e) {
      return null; // explicit parameters or an unknown curve: no curve to match on
    }
  }
}
