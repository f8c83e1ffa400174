package io.tollgate.cli;

import io.tollgate.upgrade.Upgrader;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code tollgate upgrade --pid-file F}: sends SIGUSR2 to the running Tollgate, which starts a new
 * process and hands it the listening sockets, and waits for the outcome it writes beside the pid
 * file ({@code F.upgrade}). Success: the pid file names the new process and the old one drains.
 */
@Command(
    name = "upgrade",
    mixinStandardHelpOptions = true,
    description = {
      "Replace a running Tollgate by a new process (new jar, JDK, io or admin settings) without",
      "refusing a connection: the new process takes over the listening sockets, and only once it",
      "accepts does the old one stop accepting and drain for timeouts.drain. If the new process",
      "fails to start, the old one keeps serving and this prints why. Linux (epoll) only.",
      "Exit 0: the new process serves; 1: it did not, the old one still does."
    })
final class UpgradeCommand implements Callable<Integer> {
  @Option(
      names = "--pid-file",
      required = true,
      paramLabel = "FILE",
      description = "The file `tollgate run --pid-file` wrote.")
  Path pidFile;

  @Option(
      names = "--timeout",
      paramLabel = "SECONDS",
      // Above the successor's own bound (90 s: RunCommand.UPGRADE_READY_TIMEOUT), so the outcome
      // that bound gives still reaches the operator.
      defaultValue = "120",
      description = "How long to wait for the outcome (default ${DEFAULT-VALUE}).")
  int timeoutSeconds;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws InterruptedException {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    long pid;
    try {
      pid = readPid(pidFile);
    } catch (IOException | NumberFormatException e) {
      return fail(err, "cannot read a pid from " + pidFile + ": " + e.getMessage());
    }
    if (!ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
      return fail(err, "no process " + pid + " (from " + pidFile + "): is Tollgate running?");
    }
    Path outcome = Upgrader.outcomeFile(pidFile);
    try {
      Files.deleteIfExists(outcome);
    } catch (IOException e) {
      return fail(err, "cannot remove the old outcome " + outcome + ": " + e.getMessage());
    }
    String signalError = signal(pid);
    if (signalError != null) {
      return fail(err, signalError);
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
    List<String> lines = null;
    while (System.nanoTime() < deadline) {
      if (Files.exists(outcome)) {
        try {
          lines = Files.readAllLines(outcome, StandardCharsets.UTF_8);
          break;
        } catch (IOException e) {
          // replaced while read: look again
        }
      }
      if (!ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
        return fail(err, "Tollgate " + pid + " exited without reporting an outcome; see its log");
      }
      Thread.sleep(50);
    }
    if (lines == null || lines.isEmpty()) {
      return fail(err, "no outcome from Tollgate " + pid + " within " + timeoutSeconds + "s");
    }
    if (!lines.get(0).startsWith("ok ")) {
      err.println("upgrade failed; process " + pid + " keeps serving:");
      lines.subList(1, lines.size()).forEach(l -> err.println("  " + l));
      err.flush();
      return 1;
    }
    long newPid = Long.parseLong(lines.get(0).substring(3).strip());
    // The new process writes the pid file before it reports, so this is only a check.
    try {
      if (readPid(pidFile) != newPid) {
        return fail(err, "upgraded to " + newPid + ", but " + pidFile + " does not name it");
      }
    } catch (IOException | NumberFormatException e) {
      return fail(err, "upgraded to " + newPid + ", but " + pidFile + ": " + e.getMessage());
    }
    out.println(
        "upgraded: process "
            + newPid
            + " accepts on the listening sockets; "
            + pid
            + " stopped accepting and drains its open connections (timeouts.drain), then exits");
    out.flush();
    return 0;
  }

  private static long readPid(Path file) throws IOException {
    return Long.parseLong(Files.readString(file, StandardCharsets.UTF_8).strip());
  }

  /** Null when sent, else why not. */
  private static String signal(long pid) throws InterruptedException {
    try {
      Process kill =
          new ProcessBuilder("kill", "-USR2", Long.toString(pid)).redirectErrorStream(true).start();
      String output = new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!kill.waitFor(10, TimeUnit.SECONDS)) {
        kill.destroyForcibly();
        return "kill -USR2 " + pid + " did not finish";
      }
      return kill.exitValue() == 0 ? null : "kill -USR2 " + pid + " failed: " + output.strip();
    } catch (IOException e) {
      return "cannot run kill: " + e.getMessage();
    }
  }

  private static int fail(PrintWriter err, String message) {
    err.println("upgrade: " + message);
    err.flush();
    return 1;
  }
}
