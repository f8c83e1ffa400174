package io.tollgate.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** Copies a child process's standard error into a list, line by line, as the lines come. */
final class ProcessLog {
  private ProcessLog() {}

  /**
   * Starts a daemon thread that appends each line {@code process} writes to its standard error to
   * {@code lines} (a thread-safe list) until the stream ends: every process that inherited the pipe
   * has exited.
   */
  static void follow(Process process, List<String> lines) {
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                  lines.add(line);
                }
              } catch (IOException e) {
                // the process is gone
              }
            },
            "tollgate-stderr");
    reader.setDaemon(true);
    reader.start();
  }
}
