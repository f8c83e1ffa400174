package io.tollgate.relay;

import io.netty.handler.ssl.SslHandshakeTimeoutException;
import io.tollgate.tls.TlsFailures;
import java.nio.channels.ClosedChannelException;
import java.util.Locale;
import javax.net.ssl.SSLException;

/**
 * The few kinds of TLS failure that get their own close reason. Netty wraps the exceptions
 * (DecoderException), BoringSSL reports certificate problems as a generic handshake exception
 * with the trust manager's exception as cause; so the whole cause chain is looked at.
 */
enum TlsFailureKind {
  /** The peer's certificate did not verify (issuer, name, dates). */
  VERIFY,
  /** Any other TLS failure. */
  HANDSHAKE,
  /** The handshake did not finish in time. */
  TIMEOUT,
  /** The channel closed before the handshake finished. */
  CLOSED,
  /** Not a TLS failure. */
  OTHER;

  private final String label = name().toLowerCase(Locale.ROOT);

  /** The lower-case name, as the {@code reason} label of the handshake failure metric. */
  String label() {
    return label;
  }

  static TlsFailureKind of(Throwable failure) {
    if (TlsFailures.peerCertificateRejected(failure)) {
      return VERIFY;
    }
    boolean tls = false;
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof SslHandshakeTimeoutException) {
        return TIMEOUT;
      }
      if (t instanceof ClosedChannelException && !tls) {
        return CLOSED;
      }
      if (t instanceof SSLException) {
        tls = true;
        if (String.valueOf(t.getMessage()).toUpperCase(Locale.ROOT)
            .contains("CERTIFICATE_VERIFY_FAILED")) {
          return VERIFY;
        }
      }
    }
    return tls ? HANDSHAKE : OTHER;
  }

  /** One readable line: the most specific message in the cause chain. */
  static String describe(Throwable failure) {
    return TlsFailures.reason(failure);
  }
}
