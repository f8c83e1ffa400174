package io.tollgate.tls;

import java.security.cert.CertPathBuilderException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;

/**
 * Turns a failed handshake's exception into a reason a person can act on. BoringSSL's engine
 * reports verification failures as {@code SSLHandshakeException("General OpenSslEngine
 * problem")} with the trust manager's exception as its cause, so the useful text is at the bottom
 * of the cause chain (the JDK engine puts it in the top message too).
 */
public final class TlsFailures {
  private TlsFailures() {}

  /** The most specific message in the cause chain (the deepest one that has a message). */
  public static String reason(Throwable failure) {
    String reason = null;
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t.getMessage() != null && !t.getMessage().isBlank()) {
        reason = t.getMessage();
      }
    }
    return reason != null ? reason : failure.getClass().getSimpleName();
  }

  /**
   * Whether the handshake failed because this side rejected the peer's certificate (untrusted
   * issuer, wrong name, expired), as opposed to a protocol or network problem.
   */
  public static boolean peerCertificateRejected(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof CertificateException
          || t instanceof CertPathBuilderException
          || t instanceof CertPathValidatorException) {
        return true;
      }
    }
    return false;
  }
}
