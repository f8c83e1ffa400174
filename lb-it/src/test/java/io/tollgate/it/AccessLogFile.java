package io.tollgate.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Reads a test Tollgate's access log file. */
final class AccessLogFile {
  private AccessLogFile() {}

  /**
   * The complete lines of the file, parsed, in order; none if it does not exist yet. Tollgate
   * appends each line with one write, but a read racing that write can see part of it (seen in CI
   * and reproduced under strace: a last line cut short, which did not parse), so the bytes after
   * the last newline are left for the next read.
   */
  static List<Map<String, Object>> lines(Path file) throws IOException {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      return List.of();
    }
    int end = bytes.length;
    while (end > 0 && bytes[end - 1] != '\n') {
      end--;
    }
    List<Map<String, Object>> out = new ArrayList<>();
    if (end == 0) {
      return out;
    }
    for (String line : new String(bytes, 0, end - 1, StandardCharsets.UTF_8).split("\n")) {
      out.add(JsonLine.parse(line));
    }
    return out;
  }

  /**
   * The line of the connection with this SNI, parsed, waiting for it (a connection's line is
   * written once it has closed) for at most {@code within}.
   */
  static Map<String, Object> lineFor(Path file, String sni, Duration within) throws Exception {
    long deadline = System.nanoTime() + within.toNanos();
    while (true) {
      for (Map<String, Object> line : lines(file)) {
        if (sni.equals(line.get("sni"))) {
          return line;
        }
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError(
            "no access log line for "
                + sni
                + " in "
                + file
                + (Files.exists(file) ? ":\n" + Files.readString(file) : ""));
      }
      Thread.sleep(20);
    }
  }
}
