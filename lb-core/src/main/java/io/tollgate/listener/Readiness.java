package io.tollgate.listener;

import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether this process wants new connections, as the admin endpoint's {@code GET /ready} tells a
 * load balancer, router or BGP speaker in front of it. Ready from start until something withdraws
 * it: a stop ({@link #withdrawForGood}, from the first moment of {@code Tollgate.shutdown}, before
 * the listeners close) or an upgrade handing the sockets to a new process ({@link #withdraw}, which
 * {@link #restore} undoes when that process fails to start).
 *
 * <p>Only a signal to the outside: the listeners accept while withdrawn, until whoever withdrew
 * closes them. Read from any thread (one volatile read).
 */
public final class Readiness {
  private static final Logger log = LoggerFactory.getLogger(Readiness.class);

  /** Why it was withdrawn; null while ready. */
  private volatile String withdrawnFor;

  private boolean forGood;

  public boolean isReady() {
    return withdrawnFor == null;
  }

  /** Why it was withdrawn ("shutdown", "upgrade", ...), empty while ready. */
  public Optional<String> withdrawnFor() {
    return Optional.ofNullable(withdrawnFor);
  }

  /**
   * Withdraws until {@link #restore}: {@code GET /ready} answers 503 from now on.
   *
   * @param why for the log and status, e.g. "upgrade"
   */
  public synchronized void withdraw(String why) {
    if (withdrawnFor == null) {
      log.info("Not ready any more ({}): GET /ready answers 503", why);
      withdrawnFor = why;
    }
  }

  /**
   * Withdraws for the rest of this process's life (a stop); {@link #restore} no longer undoes it.
   */
  public synchronized void withdrawForGood(String why) {
    withdraw(why);
    forGood = true;
  }

  /**
   * Ready again after a {@link #withdraw}, e.g. the new process of an upgrade failed and this one
   * goes on serving.
   *
   * @return false when a stop withdrew it, which nothing undoes
   */
  public synchronized boolean restore() {
    if (forGood) {
      return false;
    }
    if (withdrawnFor != null) {
      log.info("Ready again (was withdrawn for {})", withdrawnFor);
      withdrawnFor = null;
    }
    return true;
  }
}
