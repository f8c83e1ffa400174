package io.tollgate.inspect;

/**
 * Internal signal that the hello is malformed; always caught by {@link ClientHelloParser} and
 * turned into {@link HelloFailure#BAD_HELLO}. Stackless because hostile input may raise it often.
 */
final class MalformedHelloException extends RuntimeException {
  MalformedHelloException(String detail) {
    super(detail, null, false, false);
  }
}
