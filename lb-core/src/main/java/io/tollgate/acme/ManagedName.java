package io.tollgate.acme;

import io.tollgate.tls.CertifiedKey;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ScheduledFuture;

/**
 * The ACME state of one route with {@code certificate = acme}: its names, what it serves, when it
 * renews, and how the last attempt went. Written by the manager's thread only; read anywhere.
 */
final class ManagedName {
  /** What {@code /status} says about a name. */
  enum State {
    /** No certificate yet, an order is due or running. */
    PENDING,
    /** A valid certificate is served; the next renewal is scheduled. */
    VALID,
    /** Renewing now, or retrying a renewal, while the current certificate is served. */
    RENEWING,
    /** Another node sharing the storage holds the order lock; waiting for its result. */
    WAITING_FOR_PEER,
    /** The last order failed and no valid certificate is served; retrying with backoff. */
    FAILED
  }

  final String route;
  final List<String> hosts;
  volatile State state = State.PENDING;

  /** What the route serves; the same list instance until it changes (see ManagedCertificates). */
  volatile List<CertifiedKey> current = List.of();

  volatile Instant nextAttempt;
  volatile Instant renewAt;
  volatile String lastError;
  volatile Instant lastErrorAt;
  volatile int failures;
  volatile Instant lastIssued;
  ScheduledFuture<?> scheduled;

  ManagedName(String route, List<String> hosts) {
    this.route = route;
    this.hosts = List.copyOf(hosts);
  }

  /** The earliest notAfter of what is served, or null. */
  Instant notAfter() {
    return current.stream().map(CertifiedKey::notAfter).min(Instant::compareTo).orElse(null);
  }
}
