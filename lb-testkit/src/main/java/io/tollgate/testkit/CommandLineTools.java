package io.tollgate.testkit;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Finds external tools ({@code curl}, {@code openssl}) and runs them with a timeout, so tests can
 * cross-check against real clients and skip with {@code Assumptions} where a tool is absent.
 */
public final class CommandLineTools {
  private CommandLineTools() {}

  /** Outcome of {@link #run}: exit code (-1 when killed on timeout) and captured output. */
  public record ProcessResult(int exitCode, String stdout, String stderr, boolean timedOut) {
    /** Exited by itself with status 0. */
    public boolean ok() {
      return !timedOut && exitCode == 0;
    }

    @Override
    public String toString() {
      return "exit="
          + exitCode
          + (timedOut ? " (timed out)" : "")
          + "\n--- stdout\n"
          + stdout
          + "\n--- stderr\n"
          + stderr;
    }
  }

  /** The first executable named {@code tool} on {@code PATH}, if any. */
  public static Optional<Path> which(String tool) {
    String path = System.getenv("PATH");
    if (path == null) {
      return Optional.empty();
    }
    for (String dir : path.split(File.pathSeparator)) {
      if (dir.isEmpty()) {
        continue;
      }
      Path candidate = Path.of(dir, tool);
      if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
        return Optional.of(candidate);
      }
    }
    return Optional.empty();
  }

  /** Runs {@code command}, waiting at most {@code timeout}; see {@link #run(Duration, List)}. */
  public static ProcessResult run(Duration timeout, String... command) {
    return run(timeout, List.of(command));
  }

  /**
   * Runs {@code command} with stdin closed, capturing stdout and stderr as UTF-8. On timeout the
   * process is killed and the result says {@code timedOut}.
   */
  public static ProcessResult run(Duration timeout, List<String> command) {
    Process process;
    try {
      process =
          new ProcessBuilder(command)
              .redirectInput(ProcessBuilder.Redirect.from(nullFile()))
              .start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + command, e);
    }
    // Drain both pipes concurrently so a chatty process can never block on a full pipe.
    CompletableFuture<String> stdout = drain(process.getInputStream());
    CompletableFuture<String> stderr = drain(process.getErrorStream());
    try {
      boolean exited = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
      if (!exited) {
        process.destroyForcibly();
        process.waitFor(5, TimeUnit.SECONDS);
      }
      return new ProcessResult(
          exited ? process.exitValue() : -1,
          stdout.get(5, TimeUnit.SECONDS),
          stderr.get(5, TimeUnit.SECONDS),
          !exited);
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running " + command, e);
    } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
      process.destroyForcibly();
      throw new IllegalStateException("cannot read output of " + command, e);
    }
  }

  private static File nullFile() {
    return new File(File.separatorChar == '\\' ? "NUL" : "/dev/null");
  }

  private static CompletableFuture<String> drain(InputStream in) {
    CompletableFuture<String> result = new CompletableFuture<>();
    Thread reader =
        new Thread(
            () -> {
              try (in) {
                result.complete(new String(in.readAllBytes(), StandardCharsets.UTF_8));
              } catch (IOException e) {
                result.completeExceptionally(e);
              }
            },
            "command-output-reader");
    reader.setDaemon(true);
    reader.start();
    return result;
  }
}
