package io.tollgate.net;

import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import java.io.IOException;
import java.net.ConnectException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.NotYetConnectedException;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import java.util.Locale;
import javax.net.ssl.SSLException;

/**
 * What kind of network failure an exception is: the one classifier behind every close reason of the
 * relay, every passive-ejection reason of a pool and the wording of every failed health probe.
 * Callers map a kind to their own words (a {@code CloseReason}, "connect refused"); the kind itself
 * never depends on where the exception surfaced.
 *
 * <p>Netty wraps exceptions (a {@code DecoderException} around an {@link SSLException}), and
 * BoringSSL reports a certificate it rejected as a generic handshake exception with the trust
 * manager's exception as cause, so the TLS kinds look at the whole cause chain; the connect and
 * socket kinds look at the exception itself, as the transports raise them unwrapped.
 */
public enum FailureKind {
  /** This side rejected the peer's certificate (issuer, name, dates). */
  VERIFY("verify"),
  /** Any other TLS failure: protocol error, an alert from the peer, nothing in common. */
  HANDSHAKE("handshake"),
  /** A TLS handshake did not finish within its timeout. */
  HANDSHAKE_TIMEOUT("timeout"),
  /**
   * The channel closed before the operation finished (SslHandler fails a handshake in progress this
   * way; a connect attempt cancelled by a close too).
   */
  CLOSED("closed"),
  /** A TCP connect did not complete within the connect timeout. */
  CONNECT_TIMEOUT("connect_timeout"),
  /** The server refused the TCP connect (nothing listening). */
  CONNECT_REFUSED("connect_refused"),
  /** Any other socket failure: reset by the peer, unreachable, broken pipe, not connected. */
  SOCKET("socket"),
  /** Not a network failure: an unexpected exception, a bug. */
  OTHER("other");

  private final String label;

  FailureKind(String label) {
    this.label = label;
  }

  /** A stable lower-case word for metric labels and logs ({@code verify}, {@code timeout}). */
  public String label() {
    return label;
  }

  /**
   * The kinds a failed or broken TLS session reports through its handler: {@link #VERIFY}, {@link
   * #HANDSHAKE}, {@link #HANDSHAKE_TIMEOUT} and {@link #CLOSED}.
   */
  public boolean tls() {
    return this == VERIFY || this == HANDSHAKE || this == HANDSHAKE_TIMEOUT || this == CLOSED;
  }

  /**
   * The socket failed under us ({@link #CONNECT_TIMEOUT}, {@link #CONNECT_REFUSED}, {@link
   * #SOCKET}): the peer or the network, not TLS and not our code.
   */
  public boolean socket() {
    return this == CONNECT_TIMEOUT || this == CONNECT_REFUSED || this == SOCKET;
  }

  /** Classifies {@code failure}; never null. */
  public static FailureKind of(Throwable failure) {
    FailureKind tls = ofTls(failure);
    if (tls != OTHER) {
      return tls;
    }
    if (failure instanceof ConnectTimeoutException) {
      return CONNECT_TIMEOUT;
    }
    if (failure instanceof ConnectException
        && String.valueOf(failure.getMessage()).toLowerCase(Locale.ROOT).contains("refused")) {
      return CONNECT_REFUSED;
    }
    // The epoll transport reports ENOTCONN from a read as NotYetConnectedException, an
    // IllegalStateException: still a socket that failed.
    if (failure instanceof IOException || failure instanceof NotYetConnectedException) {
      return SOCKET;
    }
    return OTHER;
  }

  private static FailureKind ofTls(Throwable failure) {
    if (Causes.find(failure, CertificateException.class) != null
        || Causes.find(failure, CertPathBuilderException.class) != null
        || Causes.find(failure, CertPathValidatorException.class) != null) {
      return VERIFY;
    }
    boolean tls = false;
    for (Throwable t = failure; t != null; t = Causes.next(t)) {
      if (t instanceof SslHandshakeTimeoutException) {
        return HANDSHAKE_TIMEOUT;
      }
      if (t instanceof ClosedChannelException && !tls) {
        return CLOSED;
      }
      if (t instanceof SSLException) {
        tls = true;
        if (String.valueOf(t.getMessage())
            .toUpperCase(Locale.ROOT)
            .contains("CERTIFICATE_VERIFY_FAILED")) {
          return VERIFY;
        }
      }
    }
    return tls ? HANDSHAKE : OTHER;
  }
}
