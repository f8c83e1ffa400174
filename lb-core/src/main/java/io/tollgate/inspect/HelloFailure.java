package io.tollgate.inspect;

import java.util.Locale;

/**
 * Why a connection was closed before its TLS ClientHello could be inspected. Each constant has a
 * stable lower_snake {@link #reason()} used as the close reason in logs and metrics, so renaming a
 * constant must not change its reason string.
 */
public enum HelloFailure {
  /** The first byte is not a TLS handshake record (plaintext HTTP, SSLv2-compatible hello, ...). */
  NOT_TLS,
  /** TLS records were seen but they do not carry a well-formed ClientHello. */
  BAD_HELLO,
  /** The ClientHello (or the records carrying it) is larger than the configured limit. */
  HELLO_TOO_LARGE,
  /** The client did not send a complete ClientHello in time. */
  HELLO_TIMEOUT,
  /** The client closed (or reset) the connection before the ClientHello was complete. */
  CLIENT_CLOSED;

  private final String reason = name().toLowerCase(Locale.ROOT);

  /** The close reason as written to logs and metrics, e.g. {@code hello_too_large}. */
  public String reason() {
    return reason;
  }
}
