package io.tollgate.handshake;

import io.tollgate.config.IoConfig.HandshakePriority;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lowers the calling thread's CPU priority on Linux, where scheduling policy and nice value are per
 * thread. Java has no call for it (thread priorities are ignored on Linux unless the JVM runs as
 * root with {@code -XX:ThreadPriorityPolicy=1}), so the thread finds its own id in {@code
 * /proc/thread-self} and runs util-linux's {@code chrt} or {@code renice} on it, once, then reads
 * {@code /proc/thread-self/stat} back to confirm. Lowering one's own priority needs no privilege.
 * The levels are {@code io.handshake-priority}'s: nice 19 (about 1.5% of a core against one busy
 * thread of normal priority) or {@code SCHED_IDLE} (runs only when nothing of normal priority wants
 * the core, bar a sliver so it never starves outright).
 */
public final class ThreadPriority {
  private static final Logger log = LoggerFactory.getLogger(ThreadPriority.class);
  private static final int SCHED_IDLE = 5;
  private static final long WAIT_MILLIS = 5_000;

  private ThreadPriority() {}

  /**
   * Whether this system can lower a thread to {@code level}: Linux's {@code /proc/thread-self} and
   * util-linux's tool for it on the PATH.
   */
  public static boolean available(HandshakePriority level) {
    if (!Files.exists(Path.of("/proc/thread-self"))) {
      return false;
    }
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool(level)))) {
        return true;
      }
    }
    return false;
  }

  private static String tool(HandshakePriority level) {
    return level == HandshakePriority.IDLE ? "chrt" : "renice";
  }

  /**
   * Lowers the calling thread to {@code level}.
   *
   * @return whether the thread now runs at that level (false off Linux, without the tool, or when
   *     the kernel refused; the thread then keeps its priority and the reason is logged)
   */
  public static boolean lowerCurrentThread(HandshakePriority level) {
    String tid = currentTid();
    if (tid == null) {
      log.warn(
          "cannot lower {}'s priority: no /proc/thread-self", Thread.currentThread().getName());
      return false;
    }
    List<String> command =
        level == HandshakePriority.IDLE
            ? List.of(tool(level), "--idle", "--pid", "0", tid)
            : List.of(tool(level), "-n", "19", "-p", tid);
    try {
      // Output discarded: reading it would wait for the tool without the bound below.
      Process p =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      if (!p.waitFor(WAIT_MILLIS, TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        log.warn("cannot lower thread priority: {} did not end", String.join(" ", command));
        return false;
      }
      if (p.exitValue() != 0) {
        log.warn(
            "cannot lower thread priority: {} exited with {}",
            String.join(" ", command),
            p.exitValue());
        return false;
      }
    } catch (IOException e) {
      log.warn("cannot lower thread priority: {} ({})", String.join(" ", command), e.toString());
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
    return isLowered(level);
  }

  /** Whether the calling thread runs at {@code level} now, read from {@code /proc}. */
  static boolean isLowered(HandshakePriority level) {
    long[] policyNice = currentPolicyAndNice();
    if (policyNice == null) {
      return false;
    }
    return level == HandshakePriority.IDLE ? policyNice[0] == SCHED_IDLE : policyNice[1] >= 19;
  }

  /** The calling thread's scheduling policy and nice value, or {@code null} off Linux. */
  static long[] currentPolicyAndNice() {
    try {
      String stat = Files.readString(Path.of("/proc/thread-self/stat"), StandardCharsets.UTF_8);
      // The command name (field 2) may hold spaces; the fields after its ')' are fixed.
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
      // proc(5): field 19 is nice and field 41 policy; f[0] is field 3.
      return new long[] {Long.parseLong(f[41 - 3]), Long.parseLong(f[19 - 3])};
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  private static String currentTid() {
    try {
      // "<pid>/task/<tid>"
      Path self = Files.readSymbolicLink(Path.of("/proc/thread-self"));
      return self.getFileName().toString();
    } catch (IOException | UnsupportedOperationException e) {
      return null;
    }
  }
}
