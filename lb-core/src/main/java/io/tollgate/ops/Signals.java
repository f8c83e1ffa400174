package io.tollgate.ops;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * POSIX signal handlers through {@code sun.misc.Signal} (module jdk.unsupported, present in every
 * JDK since 9 and the only way a Java process can handle SIGHUP). Each handler runs on a thread the
 * JVM starts for that signal, never on an event loop.
 */
public final class Signals {
  private static final Logger log = LoggerFactory.getLogger(Signals.class);

  private Signals() {}

  /**
   * Runs {@code action} on each delivery of {@code name} ("HUP", "TERM", "INT").
   *
   * @return false when this platform or JVM does not let Java handle it (logged)
   */
  public static boolean handle(String name, Runnable action) {
    try {
      Signal.handle(
          new Signal(name),
          sig -> {
            try {
              action.run();
            } catch (RuntimeException e) {
              log.error("SIG{} handler failed", name, e);
            }
          });
      return true;
    } catch (IllegalArgumentException | UnsupportedOperationException e) {
      // Unknown on this OS, or reserved by the JVM (e.g. with -Xrs).
      log.warn(
          "Cannot handle SIG{} here ({}); use the admin endpoint instead", name, e.getMessage());
      return false;
    }
  }
}
