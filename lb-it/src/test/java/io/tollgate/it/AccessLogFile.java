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
    RuntimeException unparsed = null;
    while (true) {
      if (Files.exists(file)) {
        for (String text : Files.readAllLines(file)) {
          if (text.contains("\"" + sni + "\"")) {
            try {
              return JsonLine.parse(text);
            } catch (IllegalArgumentException e) {
              // Seen once in CI: the line read began in its middle (a read racing the append, or
              // a torn write). Read again; a line that stays broken fails below, with the file.
              unparsed = e;
            }
          }
        }
      }
      if (System.nanoTime() > deadline) {
        AssertionError e =
            new AssertionError(
                (unparsed == null
                        ? "no access log line for "
                        : "no well-formed access log line for ")
                    + sni
                    + " in "
                    + file
                    + (Files.exists(file) ? ":\n" + Files.readString(file) : ""));
        if (unparsed != null) {
          e.initCause(unparsed);
        }
        throw e;
      }
      Thread.sleep(20);
    }
  }
}
