package io.tollgate.relay;

import io.netty.handler.ssl.SslHandshakeTimeoutException;
import java.nio.channels.ClosedChannelException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import java.util.Locale;
import javax.net.ssl.SSLException;

/**
 * Sorts the exceptions a TLS handshake or session fails with into the few cases that get their
 * own close reason, and turns them into one readable line. Netty wraps them (DecoderException),
 * BoringSSL reports certificate problems as {@code CERTIFICATE_VERIFY_FAILED} with the trust
 * manager's exception as cause, the JDK as {@code CertPathValidatorException} or
 * {@code CertificateException}; so the whole cause chain is looked at.
 */
final class TlsFailures {
  private TlsFailures() {}

  enum Kind {
    /** The peer's certificate did not verify (issuer, name, dates). */
    VERIFY,
    /** Any other TLS failure. */
    HANDSHAKE,
    /** The handshake did not finish in time. */
    TIMEOUT,
    /** The channel closed before the handshake finished. */
    CLOSED,
    /** Not a TLS failure. */
    OTHER
  }

  static Kind classify(Throwable failure) {
    boolean tls = false;
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof SslHandshakeTimeoutException) {
        return Kind.TIMEOUT;
      }
      if (t instanceof CertificateException || t instanceof CertPathValidatorException) {
        return Kind.VERIFY;
      }
      if (t instanceof ClosedChannelException && !tls) {
        return Kind.CLOSED;
      }
      if (t instanceof SSLException) {
        tls = true;
        String message = String.valueOf(t.getMessage()).toUpperCase(Locale.ROOT);
        if (message.contains("CERTIFICATE_VERIFY_FAILED")) {
          return Kind.VERIFY;
        }
      }
    }
    return tls ? Kind.HANDSHAKE : Kind.OTHER;
  }

  /** The most specific message in the chain: the innermost one that says something. */
  static String describe(Throwable failure) {
    String best = String.valueOf(failure);
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t.getMessage() != null && !t.getMessage().isBlank()) {
        best = t.getMessage();
      }
    }
    return best;
  }
}
