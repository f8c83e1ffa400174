package io.tollgate.config;

import java.nio.file.Path;

/**
 * Reads HOCON into a validated {@link TollgateConfig}. Defaults come from {@code reference.conf}
 * on the class path. Every error in the file is reported at once.
 */
public final class ConfigLoader {
  private ConfigLoader() {}

  /** Loads and validates a file; includes are resolved relative to it. */
  public static TollgateConfig load(Path file) throws ConfigException {
    throw new UnsupportedOperationException("TODO: ConfigLoader.load");
  }

  /** Loads and validates HOCON text; {@code originName} names it in errors. */
  public static TollgateConfig parse(String hocon, String originName) throws ConfigException {
    throw new UnsupportedOperationException("TODO: ConfigLoader.parse");
  }
}
