package io.tollgate.inspect;

/**
 * Which ECDSA server certificates a client can verify, by curve, under each TLS version it offers:
 * what a route with an ECDSA and an RSA certificate needs to pick one that will work.
 *
 * <ul>
 *   <li>TLS 1.3 (RFC 8446 §4.2.3): the signature scheme names the curve, so a P-256 certificate
 *       needs {@code ecdsa_secp256r1_sha256} in {@code signature_algorithms}, P-384 {@code
 *       ecdsa_secp384r1_sha384}, P-521 {@code ecdsa_secp521r1_sha512}.
 *   <li>TLS 1.2 (RFC 8422 §5.1, §5.3): an ECDHE_ECDSA cipher suite, an ECDSA (hash, signature) pair
 *       when {@code signature_algorithms} is sent (RFC 5246 §7.4.1.4.1), and the certificate's
 *       curve among {@code supported_groups} when that is sent.
 * </ul>
 *
 * <p>A handful of bits whatever the hello carries, so the decision costs nothing to keep.
 *
 * @param offersTls13 whether the client offers TLS 1.3 (a route allowing it negotiates it)
 * @param tls13Curves {@link Curve} bits usable if TLS 1.3 is negotiated
 * @param tls12Curves {@link Curve} bits usable if TLS 1.2 is negotiated
 */
public record EcdsaSupport(boolean offersTls13, int tls13Curves, int tls12Curves) {
  /** The named curves TLS uses for ECDSA certificates, with their IANA numbers. */
  public enum Curve {
    /** secp256r1: group 23, TLS 1.3 scheme {@code ecdsa_secp256r1_sha256} (0x0403). */
    P256(23, 0x0403),
    /** secp384r1: group 24, scheme {@code ecdsa_secp384r1_sha384} (0x0503). */
    P384(24, 0x0503),
    /** secp521r1: group 25, scheme {@code ecdsa_secp521r1_sha512} (0x0603). */
    P521(25, 0x0603);

    private final int group;
    private final int tls13Scheme;

    Curve(int group, int tls13Scheme) {
      this.group = group;
      this.tls13Scheme = tls13Scheme;
    }

    int bit() {
      return 1 << ordinal();
    }

    /** The bit of the curve with this {@code supported_groups} number, or 0. */
    static int bitOfGroup(int group) {
      for (Curve c : values()) {
        if (c.group == group) {
          return c.bit();
        }
      }
      return 0;
    }

    /** The bit of the curve this TLS 1.3 signature scheme signs with, or 0. */
    static int bitOfTls13Scheme(int scheme) {
      for (Curve c : values()) {
        if (c.tls13Scheme == scheme) {
          return c.bit();
        }
      }
      return 0;
    }
  }

  static final int ALL_CURVES = (1 << Curve.values().length) - 1;

  /** Every ECDSA certificate works (tools such as {@code explain} ask "for ECDSA clients"). */
  public static final EcdsaSupport ANY = new EcdsaSupport(true, ALL_CURVES, ALL_CURVES);

  /** No ECDSA certificate works. */
  public static final EcdsaSupport NONE = new EcdsaSupport(false, 0, 0);

  /**
   * Whether an ECDSA certificate on {@code curve} works for this client.
   *
   * @param curve the certificate's curve; {@code null} for a curve outside {@link Curve}, which
   *     counts as usable when the client takes ECDSA on any curve (the engine has the last word)
   * @param serverAllowsTls13 whether the route allows TLS 1.3, i.e. whether TLS 1.3 is negotiated
   *     when the client offers it
   */
  public boolean accepts(Curve curve, boolean serverAllowsTls13) {
    int curves = offersTls13 && serverAllowsTls13 ? tls13Curves : tls12Curves;
    return curve == null ? curves != 0 : (curves & curve.bit()) != 0;
  }

  /** Whether an ECDSA certificate on some curve works under some version the client offers. */
  public boolean any() {
    return (tls13Curves | tls12Curves) != 0;
  }

  @Override
  public String toString() {
    return "ecdsa[tls1.3="
        + curves(offersTls13 ? tls13Curves : 0)
        + ", tls1.2="
        + curves(tls12Curves)
        + "]";
  }

  private static String curves(int bits) {
    StringBuilder sb = new StringBuilder();
    for (Curve c : Curve.values()) {
      if ((bits & c.bit()) != 0) {
        sb.append(sb.length() == 0 ? "" : "+").append(c);
      }
    }
    return sb.length() == 0 ? "-" : sb.toString();
  }
}
