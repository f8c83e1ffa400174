package io.tollgate.net;

/**
 * Walks an exception's cause chain, where the useful part of a network failure usually is:
 * BoringSSL's engine reports a rejected certificate as {@code SSLHandshakeException("General
 * OpenSslEngine problem")} with the trust manager's exception as its cause (the JDK engine puts the
 * text in the top message too).
 */
public final class Causes {
  private Causes() {}

  /** The most specific message in the chain (the deepest one that has a message). */
  public static String message(Throwable failure) {
    String message = null;
    for (Throwable t = failure; t != null; t = next(t)) {
      if (t.getMessage() != null && !t.getMessage().isBlank()) {
        message = t.getMessage();
      }
    }
    return message != null ? message : failure.getClass().getSimpleName();
  }

  /** The last exception of the chain. */
  public static Throwable root(Throwable failure) {
    Throwable t = failure;
    while (next(t) != null) {
      t = next(t);
    }
    return t;
  }

  /** The first exception of the chain that is a {@code type}, or null. */
  public static <T extends Throwable> T find(Throwable failure, Class<T> type) {
    for (Throwable t = failure; t != null; t = next(t)) {
      if (type.isInstance(t)) {
        return type.cast(t);
      }
    }
    return null;
  }

  /** {@code t}'s cause, or null at the end of the chain (or a cause that is itself). */
  static Throwable next(Throwable t) {
    Throwable cause = t.getCause();
    return cause == t ? null : cause;
  }
}
