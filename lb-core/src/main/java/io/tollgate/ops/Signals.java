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

  /** The variable that moves HotSpot's thread-suspend signal off SIGUSR2. */
  public static final String SUSPEND_SIGNAL_VARIABLE = "_JAVA_SR_SIGNUM";

  private Signals() {}

  /**
   * Whether a JVM started with {@code environment} suspends its threads with SIGUSR2: HotSpot does
   * (JFR's sampler) unless {@code _JAVA_SR_SIGNUM} names another signal it accepts (above SIGSEGV,
   * below 65). A Java handler for SIGUSR2 then replaces HotSpot's (and without one, a stray SIGUSR2
   * kills that JVM), so every profiling sample would run Tollgate's upgrade.
   */
  public static boolean usr2SuspendsThreads(java.util.Map<String, String> environment) {
    String value = environment.get(SUSPEND_SIGNAL_VARIABLE);
    if (value == null) {
      return true;
    }
    try {
      int signal = Integer.parseInt(value.trim());
      return signal == 12 || signal <= 11 || signal >= 65; // HotSpot ignores the others
    } catch (NumberFormatException e) {
      return true;
    }
  }

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
