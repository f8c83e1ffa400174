package io.tollgate.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;

/** Reads a Linux sysctl such as {@code net.ipv4.tcp_rmem} from /proc/sys, for tests. */
public final class Sysctl {
  private Sysctl() {}

  /**
   * The whitespace-separated numbers of sysctl {@code name} (dots as in {@code sysctl -n}), or
   * empty where there is no /proc/sys (not Linux).
   */
  public static Optional<long[]> numbers(String name) {
    Path file = Path.of("/proc/sys", name.replace('.', '/'));
    if (!Files.isReadable(file)) {
      return Optional.empty();
    }
    try {
      // Not Files.readString: it trusts the size procfs reports (0) and returned one byte.
      String line = Files.readAllLines(file).get(0).trim();
      return Optional.of(Arrays.stream(line.split("\\s+")).mapToLong(Long::parseLong).toArray());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
