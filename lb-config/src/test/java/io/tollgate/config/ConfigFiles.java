package io.tollgate.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Writes config files for tests and checks the errors loading them produces. */
public final class ConfigFiles {
  /** A complete, valid config in the documented shape; tests derive broken ones from it. */
  public static final String VALID =
      """
      tollgate {
        listeners = [ { name = main, address = "127.0.0.1:8443" } ]
        io { transport = auto, worker-threads = 0 }
        timeouts { client-hello = 5s, connect = 3s, idle = 5m }
        limits { max-client-hello = 16k }
        routes = [
          { hosts = ["pass.test", "www.pass.test"], mode = passthrough, pool = pass }
          { hosts = ["*.wild.test"], mode = passthrough, pool = wild }
        ]
        default-route { pool = fallback }
        pools {
          pass { servers = ["127.0.0.1:9443", "127.0.0.1:9444"] }
          wild { servers = [{ address = "127.0.0.1:9445", weight = 2 }], connect-attempts = 3 }
          fallback { servers = ["[::1]:9446"] }
        }
      }
      """;

  private final Path dir;

  public ConfigFiles(Path dir) {
    this.dir = dir;
  }

  public Path dir() {
    return dir;
  }

  public Path write(String name, String text) {
    try {
      Path file = dir.resolve(name);
      Files.createDirectories(file.getParent());
      return Files.writeString(file, text);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Creates each file (a name ending in '/' is a directory), parents included, with a line of
   * placeholder text: lb-config checks only that the files are there to be read.
   */
  public void touch(String... names) {
    for (String name : names) {
      try {
        if (name.endsWith("/")) {
          Files.createDirectories(dir.resolve(name));
        } else {
          write(name, "placeholder for " + name + "\n");
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  /** VALID with the first occurrence of {@code from} replaced (which must be present). */
  public static String validWith(String from, String to) {
    return with(VALID, from, to);
  }

  /** {@code text} with the first occurrence of {@code from} replaced (which must be present). */
  public static String with(String text, String from, String to) {
    assertThat(text).contains(from);
    return text.replaceFirst(
        java.util.regex.Pattern.quote(from), java.util.regex.Matcher.quoteReplacement(to));
  }

  /** Loads {@code text} from a file {@code thefile.conf} and returns the errors it must cause. */
  public Loaded loadBroken(String text) {
    Path file = write("thefile.conf", text);
    ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.load(file));
    assertThat(e).as("loading should fail:%n%s", text).isNotNull();
    return new Loaded(file, text, e.errors());
  }

  /** 1-based line of the first line of {@code text} containing {@code marker}. */
  public static int lineOf(String text, String marker) {
    String[] lines = text.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      if (lines[i].contains(marker)) {
        return i + 1;
      }
    }
    throw new AssertionError("no line contains " + marker);
  }

  /** The outcome of a failed load, with assertions phrased like the errors they check. */
  public record Loaded(Path file, String text, List<ConfigError> errors) {
    /** Asserts one error at the line containing {@code marker}, at {@code path}. */
    public ConfigError errorAt(String marker, String path) {
      String origin = file + ":" + lineOf(text, marker);
      return errors.stream()
          .filter(e -> e.origin().equals(origin) && e.path().equals(path))
          .findFirst()
          .orElseThrow(
              () ->
                  new AssertionError(
                      "expected an error at "
                          + origin
                          + " for "
                          + path
                          + " but got:\n"
                          + String.join(
                              "\n", errors.stream().map(ConfigError::toString).toList())));
    }

    /** The only error, which must be at the marker's line and {@code path}. */
    public ConfigError onlyErrorAt(String marker, String path) {
      ConfigError e = errorAt(marker, path);
      assertThat(errors).as("errors").hasSize(1);
      return e;
    }

    /** The message of the only error, which must be at the marker's line and {@code path}. */
    public String only(String marker, String path) {
      return onlyErrorAt(marker, path).message();
    }
  }
}
