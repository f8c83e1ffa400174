package io.tollgate.config;

/**
 * One problem found in a config file.
 *
 * @param origin where: {@code "conf/tollgate.conf:12"} (file and line), or the closest thing
 *     typesafe-config knows
 * @param path the key path, with list indices: {@code tollgate.pools.web.servers[1]}; empty when
 *     the error concerns the whole file (missing, unparsable)
 * @param message what is wrong and what was expected
 */
public record ConfigError(String origin, String path, String message) {
  @Override
  public String toString() {
    // Errors about the whole file (not found, syntax) have no key path.
    return path.isEmpty() ? origin + ": " + message : origin + ": " + path + ": " + message;
  }
}
