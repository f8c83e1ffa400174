package io.tollgate.tls;

import io.tollgate.pki.IssuedCertificate;
import java.math.BigInteger;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateHolder;
import org.bouncycastle.cert.ocsp.BasicOCSPResp;
import org.bouncycastle.cert.ocsp.BasicOCSPRespBuilder;
import org.bouncycastle.cert.ocsp.CertificateID;
import org.bouncycastle.cert.ocsp.CertificateStatus;
import org.bouncycastle.cert.ocsp.OCSPRespBuilder;
import org.bouncycastle.cert.ocsp.RespID;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;

/** DER OCSP responses for stapling tests ("good", signed by a stand-in responder key). */
final class OcspResponses {
  private OcspResponses() {}

  /**
   * A successful response saying {@code leaf} is good, for issuer {@code issuer}; signed with
   * {@code responder}'s key (clients only check it when they do revocation checking).
   */
  static byte[] good(X509Certificate leaf, X509Certificate issuer, IssuedCertificate responder)
      throws Exception {
    X509CertificateHolder issuerHolder = new JcaX509CertificateHolder(issuer);
    CertificateID id =
        new CertificateID(
            new JcaDigestCalculatorProviderBuilder().build().get(CertificateID.HASH_SHA1),
            issuerHolder,
            new BigInteger(1, leaf.getSerialNumber().toByteArray()));
    Instant now = Instant.now();
    BasicOCSPRespBuilder builder =
        new BasicOCSPRespBuilder(
            new RespID(new JcaX509CertificateHolder(responder.certificate()).getSubject()));
    builder.addResponse(
        id, CertificateStatus.GOOD, Date.from(now), Date.from(now.plus(Duration.ofDays(1))));
    BasicOCSPResp basic =
        builder.build(
            new JcaContentSignerBuilder("SHA256withECDSA").build(responder.key()),
            new X509CertificateHolder[] {new JcaX509CertificateHolder(responder.certificate())},
            Date.from(now));
    return new OCSPRespBuilder().build(OCSPRespBuilder.SUCCESSFUL, basic).getEncoded();
  }
}
