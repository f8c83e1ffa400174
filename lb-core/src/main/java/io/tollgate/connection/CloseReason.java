package io.tollgate.connection;

import java.util.Locale;

/**
 * Why a client connection ended. Every connection ends with exactly one reason: the first one
 * recorded wins, so the cause is kept rather than the consequences that follow it.
 */
public enum CloseReason {
  /**
   * The listener requires a PROXY protocol header (proxy-protocol.mode = required) and the
   * connection did not start with one.
   */
  PROXY_HEADER_MISSING,
  /** A PROXY protocol header came from a source not in the listener's proxy-protocol.trusted. */
  PROXY_UNTRUSTED,
  /** A PROXY protocol header that breaks the spec (bad field, too long, CRC32C mismatch...). */
  BAD_PROXY_HEADER,
  /** At accept: limits.max-connections client connections are open already. */
  LIMIT_GLOBAL,
  /** At accept: the listener's max-connections client connections are open already. */
  LIMIT_LISTENER,
  /** At accept: limits.per-source.max-connections are open from this client address. */
  LIMIT_SOURCE,
  /** At accept: this client address opened more than limits.per-source.new-per-second. */
  LIMIT_SOURCE_RATE,
  /** Once routed: the route's max-connections client connections are open already. */
  LIMIT_ROUTE,
  /**
   * Once routed to an offload or reencrypt route: the route started its {@code
   * handshakes-per-second} (and burst) already; refused before any TLS work.
   */
  HANDSHAKE_RATE_LIMITED,
  /**
   * Once routed to an offload or reencrypt route: {@code concurrent-handshakes} of the route's
   * handshakes are in progress already; refused before any TLS work.
   */
  HANDSHAKE_CONCURRENCY_LIMITED,
  /**
   * The client address is not allowed by the listener's (at accept, or once a PROXY header named
   * it) or the route's (once the hello picked it) allow-from / deny-from.
   */
  DENIED,
  /**
   * No whole ClientHello (or PROXY header before it, on listeners that read one) within {@code
   * timeouts.client-hello}.
   */
  HELLO_TIMEOUT,
  /** The first bytes were not a TLS handshake record (plaintext, SSLv2 hello, ...). */
  NOT_TLS,
  /** TLS records that do not form a valid ClientHello. */
  BAD_HELLO,
  /** The ClientHello is larger than {@code limits.max-client-hello}. */
  HELLO_TOO_LARGE,
  /** The SNI matched no route and the default route rejects. */
  NO_ROUTE,
  /**
   * An http listener ({@code protocol = http}): the request head was not valid HTTP/1.x (answered
   * 400), or it named no Host where one was needed.
   */
  HTTP_BAD_REQUEST,
  /** An http listener: the request head exceeded {@code limits.max-client-hello} (answered 431). */
  HTTP_REQUEST_TOO_LARGE,
  /**
   * An http listener: no whole request head within {@code timeouts.client-hello} (answered 408).
   */
  HTTP_REQUEST_TIMEOUT,
  /** An http listener answered 301 to https (the route's or listener's http = redirect-https). */
  HTTP_REDIRECTED,
  /** An http listener answered 403 (the route's or listener's http = reject). */
  HTTP_REJECTED,
  /** An http listener answered an ACME http-01 challenge Tollgate has pending (200). */
  HTTP_CHALLENGE_ANSWERED,
  /**
   * The route's certificate is ordered from its ACME CA ({@code certificate = acme}) and has not
   * been issued yet; {@code /status} says how the order is going.
   */
  CERTIFICATE_PENDING,
  /** Tollgate answered an ACME CA's tls-alpn-01 validation (RFC 8737) and closed, as it should. */
  ACME_CHALLENGE,
  /** The pool has no server that is up (and not draining), and its on-all-down is reject. */
  NO_HEALTHY_BACKEND,
  /** Every server of the pool that is up is at its max-connections. */
  POOL_FULL,
  /** Every connect attempt failed (refused, unreachable, timed out). */
  CONNECT_FAILED,
  /**
   * Offload/reencrypt: the client's TLS handshake failed (no common protocol or cipher, a client
   * certificate missing or not trusted, the client rejecting ours, ...). The detail says which.
   */
  HANDSHAKE_FAILED,
  /** Offload/reencrypt: the client's TLS handshake did not finish within timeouts.handshake. */
  HANDSHAKE_TIMEOUT,
  /**
   * Reencrypt: the backend's certificate did not verify (unknown issuer, wrong name, expired), on
   * every server tried. Check the pool's tls.ca and tls.server-name.
   */
  BACKEND_VERIFY_FAILED,
  /** Reencrypt: the TLS handshake with the backend failed for another reason, or timed out. */
  BACKEND_HANDSHAKE_FAILED,
  /** A TLS protocol error after the handshake (bad record, unexpected message) on either side. */
  TLS_ERROR,
  /** No byte moved either way for {@code timeouts.idle}. */
  IDLE_TIMEOUT,
  /** The client closed (FIN) first; after a half-close, the exchange finished normally. */
  CLIENT_CLOSED,
  /** The backend closed first. */
  BACKEND_CLOSED,
  /** The client reset the connection or its socket failed; the backend side is reset too. */
  CLIENT_RESET,
  /** The backend reset the connection or its socket failed; the client side is reset too. */
  BACKEND_RESET,
  /** Open for {@code timeouts.max-lifetime}; closed by Tollgate whatever it was doing. */
  MAX_LIFETIME,
  /** Still open when the shutdown drain ({@code timeouts.drain}) ran out; closed by Tollgate. */
  SHUTDOWN,
  /** A bug: an unexpected exception in Tollgate's own code. Logged with a stack trace. */
  INTERNAL_ERROR;

  private final String label = name().toLowerCase(Locale.ROOT);

  /** The lower_snake name used in logs and metrics ({@code hello_timeout}). */
  public String label() {
    return label;
  }
}
