package io.tollgate.inspect;

import io.tollgate.connection.CloseReason;

/**
 * Why a connection was closed before its TLS ClientHello could be inspected. Each constant carries
 * the {@link CloseReason} recorded for it, whose label is what logs and metrics show.
 */
public enum HelloFailure {
  /** The first byte is not a TLS handshake record (plaintext HTTP, SSLv2-compatible hello, ...). */
  NOT_TLS(CloseReason.NOT_TLS),
  /** TLS records were seen but they do not carry a well-formed ClientHello. */
  BAD_HELLO(CloseReason.BAD_HELLO),
  /** The ClientHello (or the records carrying it) is larger than the configured limit. */
  HELLO_TOO_LARGE(CloseReason.HELLO_TOO_LARGE),
  /** The client did not send a complete ClientHello in time. */
  HELLO_TIMEOUT(CloseReason.HELLO_TIMEOUT),
  /** The client closed (or reset) the connection before the ClientHello was complete. */
  CLIENT_CLOSED(CloseReason.CLIENT_CLOSED);

  private final CloseReason closeReason;

  HelloFailure(CloseReason closeReason) {
    this.closeReason = closeReason;
  }

  /** The close reason recorded for this failure ({@code hello_too_large} in logs). */
  public CloseReason closeReason() {
    return closeReason;
  }
}
