package io.tollgate.inspect;

import io.tollgate.connection.CloseReason;
import io.tollgate.connection.HttpAnswer;

/**
 * Why an http listener ({@code protocol = http}) closed a connection before its request head could
 * be routed, the close reason recorded and the status the client is answered with (none when it has
 * gone).
 */
public enum HttpRequestFailure {
  /** Not HTTP/1.x, or a head that breaks its syntax (RFC 9112). */
  BAD_REQUEST(CloseReason.HTTP_BAD_REQUEST, HttpAnswer.Status.BAD_REQUEST),
  /** The head is larger than {@code limits.max-client-hello}. */
  TOO_LARGE(CloseReason.HTTP_REQUEST_TOO_LARGE, HttpAnswer.Status.HEADERS_TOO_LARGE),
  /** No whole head within {@code timeouts.client-hello}. */
  TIMEOUT(CloseReason.HTTP_REQUEST_TIMEOUT, HttpAnswer.Status.REQUEST_TIMEOUT),
  /** The client closed (or reset) the connection before the head was whole. */
  CLIENT_CLOSED(CloseReason.CLIENT_CLOSED, null);

  private final CloseReason closeReason;
  private final HttpAnswer.Status status;

  HttpRequestFailure(CloseReason closeReason, HttpAnswer.Status status) {
    this.closeReason = closeReason;
    this.status = status;
  }

  public CloseReason closeReason() {
    return closeReason;
  }

  /** What the client is answered, or null when nobody is left to answer. */
  public HttpAnswer.Status status() {
    return status;
  }
}
