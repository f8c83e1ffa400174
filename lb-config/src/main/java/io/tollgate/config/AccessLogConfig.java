package io.tollgate.config;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * Where the access log goes ({@code tollgate.access-log}): one JSON line per connection.
 *
 * @param target off, stdout, stderr or a file
 * @param file the file when {@code target} is {@link Target#FILE}, resolved against the config
 *     file's directory
 */
public record AccessLogConfig(Target target, Optional<Path> file) {
  public static final AccessLogConfig OFF = new AccessLogConfig(Target.OFF, Optional.empty());

  /** The destinations {@code path} can name; any other value is a file path. */
  public enum Target {
    OFF,
    STDOUT,
    STDERR,
    FILE
  }

  public AccessLogConfig {
    Objects.requireNonNull(target, "target");
    Objects.requireNonNull(file, "file");
    if (file.isPresent() != (target == Target.FILE)) {
      throw new IllegalArgumentException("a file goes with target FILE only");
    }
  }

  public static AccessLogConfig toFile(Path file) {
    return new AccessLogConfig(Target.FILE, Optional.of(file));
  }
}
