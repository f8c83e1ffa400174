package io.tollgate.it;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/** Reads a test Tollgate's access log file. */
final class AccessLogFile {
  private AccessLogFile() {}

  /**
   * The line of the connection with this SNI, parsed, waiting for it (a connection's line is
   * written once it has closed) for at most {@code within}.
   */
  static Map<String, Object> lineFor(Path file, String sni, Duration within) throws Exception {
    long deadline = System.nanoTime() + within.toNanos();
    while (true) {
      if (Files.exists(file)) {
        for (String text : Files.readAllLines(file)) {
          if (text.contains("\"" + sni + "\"")) {
            return JsonLine.parse(text);
          }
        }
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("no access log line for " + sni + " in " + file);
      }
      Thread.sleep(20);
    }
  }
}
