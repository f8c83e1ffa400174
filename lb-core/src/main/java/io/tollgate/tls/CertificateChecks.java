package io.tollgate.tls;

import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.interfaces.RSAPublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import org.bouncycastle.jcajce.provider.asymmetric.util.EC5Util;

/**
 * The checks every certificate and key pass at load, each reported as an error (the config is
 * unusable) or a warning, naming the file:
 *
 * <ul>
 *   <li>the key matches the leaf certificate ({@link #keyMatches}): error;
 *   <li>every certificate of the chain is valid now: warning with its dates when it has expired or
 *       is not valid yet, and when it expires within {@link #EXPIRY_WARNING};
 *   <li>each certificate is issued by the next one in the file: error (wrong order, or an unrelated
 *       certificate in the file);
 *   <li>the last certificate is self-signed or issued by a trust anchor ({@link TrustAnchors}):
 *       otherwise warning, since clients would be missing the intermediate;
 *   <li>the key file is not readable by its group or every user (POSIX): warning.
 * </ul>
 *
 * <p>Errors are what cannot be served at all. A certificate that is out of date or sent without its
 * intermediate can still be served, and only that certificate's clients suffer: it loads with a
 * warning, so one tenant's lapse never stops Tollgate from starting or reloading for every other
 * tenant (the expiry metric and {@code check --strict} make it visible).
 */
final class CertificateChecks {
  /** Certificates expiring sooner than this produce a warning. */
  static final Duration EXPIRY_WARNING = Duration.ofDays(30);

  private static final SecureRandom RANDOM = new SecureRandom();

  private CertificateChecks() {}

  /**
   * Runs every check on {@code certified}; returns whether none of them was an error.
   *
   * @param configPath the key that named the files, e.g. {@code tollgate.routes[0].certificate}
   */
  static boolean check(
      CertifiedKey certified,
      TrustAnchors anchors,
      Instant now,
      String configPath,
      TlsProblems problems) {
    return check(certified, anchors, now, configPath, problems, false);
  }

  /**
   * As {@link #check(CertifiedKey, TrustAnchors, Instant, String, TlsProblems)}; {@code
   * keyMatchKnown} skips the key match (the most expensive check), for a certificate whose files
   * hold the bytes that matched before.
   */
  static boolean check(
      CertifiedKey certified,
      TrustAnchors anchors,
      Instant now,
      String configPath,
      TlsProblems problems,
      boolean keyMatchKnown) {
    int errorsBefore = problems.errorCount();
    Path chainFile = certified.chainFile();
    List<X509Certificate> chain = certified.chain();

    if (!keyMatchKnown
        && !keyMatches(certified.key(), certified.leaf().getPublicKey(), certified.kind())) {
      problems.error(
          certified.keyFile(),
          configPath,
          "the private key does not match the certificate in "
              + chainFile
              + " ("
              + certified.subject()
              + "): their public keys differ; use the key the certificate"
              + " was issued for");
    }

    for (int i = 0; i < chain.size(); i++) {
      checkValidity(chain.get(i), i, chainFile, now, configPath, problems);
    }

    boolean ordered = true;
    for (int i = 0; i + 1 < chain.size(); i++) {
      X509Certificate child = chain.get(i);
      X509Certificate parent = chain.get(i + 1);
      if (!issuedBy(child, parent)) {
        ordered = false;
        problems.error(
            chainFile,
            configPath,
            "certificates out of order: certificate "
                + (i + 2)
                + " ("
                + parent.getSubjectX500Principal().getName()
                + ") did not issue certificate "
                + (i + 1)
                + " ("
                + child.getSubjectX500Principal().getName()
                + ", issued by "
                + child.getIssuerX500Principal().getName()
                + "); the file must list the leaf"
                + " certificate first, then the certificate that issued it, and so on");
        break;
      }
    }

    X509Certificate last = chain.get(chain.size() - 1);
    if (ordered && !selfSigned(last) && !anchors.issued(last) && !anchors.contains(last)) {
      String issuer = last.getIssuerX500Principal().getName();
      problems.warning(
          chainFile,
          configPath,
          "chain incomplete: the last certificate in the file ("
              + last.getSubjectX500Principal().getName()
              + ") is issued by "
              + issuer
              + ", which is neither in the file nor a trusted root; the intermediate certificate"
              + " is probably missing and clients will not be able to verify the chain: append"
              + " the intermediate(s) to the file after the certificate they issued, or, if "
              + issuer
              + " is a private root your clients trust, add it to"
              + " certificates.trusted-roots (served anyway, as it is)");
    }

    checkKeyFilePermissions(certified.keyFile(), configPath, problems);
    return problems.errorCount() == errorsBefore;
  }

  /**
   * When checks that found nothing for {@code certified} under {@code anchors} will still find
   * nothing: between its chain's last start of validity and its first expiry less {@link
   * #EXPIRY_WARNING}.
   */
  static TlsReuse.Quiet quiet(CertifiedKey certified, TrustAnchors anchors) {
    Instant from = Instant.MIN;
    Instant until = Instant.MAX;
    for (X509Certificate certificate : certified.chain()) {
      Instant notBefore = certificate.getNotBefore().toInstant();
      Instant warnFrom = certificate.getNotAfter().toInstant().minus(EXPIRY_WARNING);
      from = notBefore.isAfter(from) ? notBefore : from;
      until = warnFrom.isBefore(until) ? warnFrom : until;
    }
    return new TlsReuse.Quiet(anchors, from, until);
  }

  private static void checkValidity(
      X509Certificate certificate,
      int index,
      Path chainFile,
      Instant now,
      String configPath,
      TlsProblems problems) {
    Instant notBefore = certificate.getNotBefore().toInstant();
    Instant notAfter = certificate.getNotAfter().toInstant();
    if (!now.isAfter(notAfter)
        && !now.isBefore(notBefore)
        && Duration.between(now, notAfter).compareTo(EXPIRY_WARNING) >= 0) {
      return; // the common case, without formatting names that no message needs
    }
    String which =
        (index == 0 ? "certificate " : "certificate " + (index + 1) + " of the chain ")
            + "("
            + certificate.getSubjectX500Principal().getName()
            + ")";
    String dates = "valid from " + notBefore + " to " + notAfter;
    if (now.isAfter(notAfter)) {
      problems.warning(
          chainFile,
          configPath,
          which
              + " expired on "
              + notAfter
              + " ("
              + dates
              + "); clients will refuse it: renew"
              + " it (served anyway, so the rest of the config is not held back)");
    } else if (now.isBefore(notBefore)) {
      problems.warning(
          chainFile,
          configPath,
          which
              + " is not valid yet: "
              + dates
              + ", now is "
              + now
              + "; clients will refuse it"
              + " until then (check the clock; served anyway, so the rest of the config is not"
              + " held back)");
    } else if (Duration.between(now, notAfter).compareTo(EXPIRY_WARNING) < 0) {
      long days = Duration.between(now, notAfter).toDays();
      problems.warning(
          chainFile,
          configPath,
          which
              + " expires on "
              + notAfter
              + " (in "
              + days
              + " day"
              + (days == 1 ? "" : "s")
              + "); renew it soon");
    }
  }

  /** Warns when {@code keyFile} is readable by its group or every user (POSIX only). */
  static void checkKeyFilePermissions(Path keyFile, String configPath, TlsProblems problems) {
    SecretFiles.exposure(keyFile, "the private key file")
        .ifPresent(warning -> problems.warning(keyFile, configPath, warning));
  }

  /**
   * The curve's generator in BouncyCastle's form, one per curve: the multiplier keeps its
   * precomputed table on the point, so converting it again for every key would redo that work.
   */
  private static org.bouncycastle.math.ec.ECPoint generator(
      java.security.spec.ECParameterSpec params) {
    // Compared by value: BouncyCastle's keys hand out a new parameter object per key, and a
    // generator converted again loses its precomputed comb table, which made each key match
    // ~1 ms (43% of loading 10,000 tenants) instead of a few tens of microseconds.
    for (Generator known : GENERATORS) {
      if (known.matches(params)) {
        return known.point();
      }
    }
    Generator g = new Generator(params, EC5Util.convertPoint(params, params.getGenerator()));
    if (GENERATORS.size() < 16) {
      GENERATORS.add(g);
    }
    return g.point();
  }

  /** A curve's parameters and its generator as BouncyCastle's point (with its precomputation). */
  private record Generator(
      java.security.spec.ECParameterSpec params, org.bouncycastle.math.ec.ECPoint point) {
    boolean matches(java.security.spec.ECParameterSpec other) {
      return other == params
          || (other.getCurve().equals(params.getCurve())
              && other.getGenerator().equals(params.getGenerator())
              && other.getOrder().equals(params.getOrder())
              && other.getCofactor() == params.getCofactor());
    }
  }

  private static final java.util.List<Generator> GENERATORS =
      new java.util.concurrent.CopyOnWriteArrayList<>();

  /**
   * Whether {@code key} is the private half of {@code publicKey}: by the public point an EC key's
   * file names ({@link EcPublicPoints}), by deriving the public key, or, for a key that says too
   * little for either, by a signature made with it that verifies with {@code publicKey}.
   */
  static boolean keyMatches(PrivateKey key, PublicKey publicKey, KeyKind kind) {
    if (KeyKind.of(key.getAlgorithm()) != kind || KeyKind.of(publicKey) != kind) {
      return false;
    }
    // The public key derived from the private one, when the key says enough to derive it: one
    // fixed-base multiplication (EC) or a comparison (RSA with CRT parameters), where a
    // signature and its verification took 3 ms per ECDSA key, most of loading 1,000 routes.
    if (key instanceof ECPrivateKey ec && publicKey instanceof ECPublicKey pub) {
      if (!ec.getParams().getCurve().equals(pub.getParams().getCurve())
          || !ec.getParams().getGenerator().equals(pub.getParams().getGenerator())) {
        return false;
      }
      byte[] claimed = EcPublicPoints.claimedBy(key);
      if (claimed != null && Arrays.equals(claimed, EcPublicPoints.ofPublic(pub))) {
        return true; // the key file names this certificate's point (EcPublicPoints says why)
      }
      org.bouncycastle.math.ec.ECPoint derived =
          new org.bouncycastle.math.ec.FixedPointCombMultiplier()
              .multiply(generator(ec.getParams()), ec.getS())
              .normalize();
      return derived.getAffineXCoord().toBigInteger().equals(pub.getW().getAffineX())
          && derived.getAffineYCoord().toBigInteger().equals(pub.getW().getAffineY());
    }
    if (key instanceof RSAPrivateCrtKey rsa && publicKey instanceof RSAPublicKey pub) {
      return rsa.getModulus().equals(pub.getModulus())
          && rsa.getPublicExponent().equals(pub.getPublicExponent());
    }
    try {
      byte[] challenge = new byte[32];
      RANDOM.nextBytes(challenge);
      Signature signer = Signature.getInstance(kind.signatureAlgorithm());
      signer.initSign(key);
      signer.update(challenge);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(kind.signatureAlgorithm());
      verifier.initVerify(publicKey);
      verifier.update(challenge);
      return verifier.verify(signature);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  /**
   * Whether {@code child} names {@code parent} as issuer and was signed with its key. When both
   * carry key identifiers (the child's authority key id, the parent's subject key id), those
   * decide, as path builders match issuers; only without them is the signature verified. These
   * answers feed warnings and chain-order errors, never a trust decision, and verifying an ECDSA
   * signature per certificate was a third of loading 10,000 offload routes.
   */
  static boolean issuedBy(X509Certificate child, X509Certificate parent) {
    if (!child.getIssuerX500Principal().equals(parent.getSubjectX500Principal())) {
      return false;
    }
    byte[] authority = KeyIdentifiers.authorityKeyId(child);
    byte[] subject = KeyIdentifiers.subjectKeyId(parent);
    if (authority != null && subject != null) {
      return Arrays.equals(authority, subject);
    }
    return signedBy(child, parent);
  }

  static boolean selfSigned(X509Certificate certificate) {
    return issuedBy(certificate, certificate);
  }

  static boolean signedBy(X509Certificate certificate, X509Certificate issuer) {
    try {
      certificate.verify(issuer.getPublicKey());
      return true;
    } catch (GeneralSecurityException e) {
      return false;
    }
  }
}
