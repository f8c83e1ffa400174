package io.tollgate.health;

import io.tollgate.net.Causes;
import io.tollgate.net.FailureKind;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.time.Duration;
import java.util.Locale;
import javax.net.ssl.SSLException;

/**
 * A failed probe in the words an operator reads in the log and the admin status: {@code connect
 * refused}, {@code timeout after 1s (connect)}, {@code tls: certificate expired}. What kind of
 * failure it was is {@link FailureKind}'s decision (shared with the data path); this class only
 * words it, adding the hints about certificates that the health log is read for.
 */
final class ProbeFailures {
  private ProbeFailures() {}

  /** The whole probe ran out of time. */
  static String timeout(Duration timeout) {
    return "timeout after " + human(timeout);
  }

  /** The TCP connect failed. */
  static String connect(Throwable cause, Duration timeout) {
    return switch (FailureKind.of(cause)) {
      case CONNECT_TIMEOUT -> timeout(timeout) + " (connect)";
      case CONNECT_REFUSED -> "connect refused";
      default -> "connect failed: " + firstLine(Causes.root(cause).getMessage());
    };
  }

  /** The TLS handshake failed. */
  static String tls(Throwable cause) {
    if (Causes.find(cause, CertificateExpiredException.class) != null) {
      return "tls: certificate expired";
    }
    if (Causes.find(cause, CertificateNotYetValidException.class) != null) {
      return "tls: certificate not yet valid";
    }
    String msg = firstLine(Causes.root(cause).getMessage());
    String lower = msg.toLowerCase(Locale.ROOT);
    if (lower.contains("expired")) {
      return "tls: certificate expired (" + msg + ")";
    }
    if (lower.contains("pkix")
        || lower.contains("certification path")
        || lower.contains("unknown ca")
        || lower.contains("certificate_unknown")) {
      return "tls: certificate not trusted: verification against the pool's tls.ca (else the"
          + " JDK's trust store) failed ("
          + msg
          + ")";
    }
    if (lower.contains("subject alternative") || lower.contains("hostname")) {
      return "tls: certificate does not match the server name (" + msg + ")";
    }
    return "tls: " + msg;
  }

  /** The connection failed after it was up: a TLS error, or the socket. */
  static String read(Throwable cause) {
    return Causes.find(cause, SSLException.class) != null
        ? tls(cause)
        : "read failed: " + firstLine(Causes.root(cause).getMessage());
  }

  /** {@code 1s}, {@code 200ms}, {@code 1500ms}. */
  static String human(Duration d) {
    long ms = d.toMillis();
    return ms % 1000 == 0 ? (ms / 1000) + "s" : ms + "ms";
  }

  /** At most 200 characters of {@code s}, so a hostile server cannot flood the log. */
  static String abbreviate(String s) {
    return s.length() > 200 ? s.substring(0, 200) + "..." : s;
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "(no message)";
    }
    int nl = s.indexOf('\n');
    return abbreviate(nl < 0 ? s : s.substring(0, nl));
  }
}
