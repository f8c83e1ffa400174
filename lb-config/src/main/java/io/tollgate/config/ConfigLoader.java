package io.tollgate.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import io.tollgate.config.bind.Binding;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * Reads HOCON into a validated {@link TollgateConfig}. Defaults come from this module's {@code
 * reference.conf}. Every error in the file is reported at once.
 *
 * <p>Loading is: parse the user's document, fall back to {@code reference.conf}, resolve
 * substitutions (environment variables included, so {@code ${?PORT}} works; Java system properties
 * are deliberately not merged, so a stray {@code -Dtollgate...} cannot change a checked file), then
 * bind and validate every section ({@link Binding}, the one entry into {@code
 * io.tollgate.config.bind}, which holds the schema, the binders and the error machinery).
 * Thread-safe.
 */
public final class ConfigLoader {
  private ConfigLoader() {}

  /**
   * Loads and validates a file; includes, and the relative paths of certificates, keys and other
   * files it names, are resolved relative to its directory. Errors name the file as given (a
   * relative path stays relative). The file is read as HOCON whatever its extension.
   *
   * @throws ConfigException listing every problem, each with {@code file:line}
   */
  public static TollgateConfig load(Path file) throws ConfigException {
    Objects.requireNonNull(file, "file");
    // No origin description here: typesafe's own file origin keeps includes pointing at their
    // own files.
    return Binding.bind(
        file.toString(),
        Optional.of(file),
        () -> ConfigFactory.parseFile(file.toFile(), fileOptions()));
  }

  /**
   * As {@link #load}, with the tenant file at {@code tenantIndex} (modulo their number, in name
   * order) of a {@code tenants-directory} read and bound again as if it had changed: what a reload
   * rehearsal loads, so that the paths a real one-tenant change takes are the ones the JIT learns.
   * The result is the same config {@link #load} gives.
   *
   * @throws ConfigException as {@link #load}
   */
  public static TollgateConfig loadRereadingTenant(Path file, int tenantIndex)
      throws ConfigException {
    return rehearsalLoad(file, tenantIndex, -1);
  }

  /**
   * As {@link #load}, with the tenant file at {@code tenantIndex} (modulo their number, in name
   * order) of a {@code tenants-directory} left out as if it had been removed: what a reload
   * rehearsal loads so that the paths of a tenant removed or added (a pool and a route fewer than
   * the last load) are ones the JIT has seen. Nothing is read from the left-out file that a load
   * would not read.
   *
   * @throws ConfigException as {@link #load}, and when another file refers to a pool of the one
   *     left out
   */
  public static TollgateConfig loadLeavingOutTenant(Path file, int tenantIndex)
      throws ConfigException {
    return rehearsalLoad(file, -1, tenantIndex);
  }

  private static TollgateConfig rehearsalLoad(Path file, int reread, int leftOut)
      throws ConfigException {
    Objects.requireNonNull(file, "file");
    return Binding.bind(
        file.toString(),
        Optional.of(file),
        () -> ConfigFactory.parseFile(file.toFile(), fileOptions()),
        reread,
        leftOut);
  }

  /**
   * Loads and validates HOCON text; {@code originName} names it in errors ({@code name:line}).
   * Relative paths of the files it names are resolved against the working directory.
   *
   * @throws ConfigException listing every problem
   */
  public static TollgateConfig parse(String hocon, String originName) throws ConfigException {
    Objects.requireNonNull(hocon, "hocon");
    Objects.requireNonNull(originName, "originName");
    return Binding.bind(
        originName,
        Optional.empty(),
        () -> ConfigFactory.parseString(hocon, parseOptions(originName)));
  }

  /**
   * The files a config file is made of: itself, every file it includes and, with {@code
   * tenants-directory}, that directory and its tenant files, as far as they parse (for watching
   * them; errors are left to {@link #load}).
   */
  public static java.util.Set<Path> sourceFiles(Path file) {
    return sourceFiles(file, FileWatch.off().scan());
  }

  /** As {@link #sourceFiles(Path)}, listing the tenant directory through {@code scan}. */
  public static java.util.Set<Path> sourceFiles(Path file, FileWatch.Scan scan) {
    java.util.Set<Path> out = new java.util.LinkedHashSet<>();
    out.add(file.toAbsolutePath().normalize());
    try {
      Config user = ConfigFactory.parseFile(file.toFile(), fileOptions());
      collectOrigins(user.root(), out);
      // The tenant directory itself (its modification time changes when a file is added or
      // removed) and its files, listed, not parsed: thousands of them are stat'ed, not read.
      Binding.tenantFiles(user, file, scan).forEach(out::add);
    } catch (com.typesafe.config.ConfigException e) {
      // Only the file itself, then: load reports the error.
    }
    return out;
  }

  private static void collectOrigins(com.typesafe.config.ConfigValue v, java.util.Set<Path> out) {
    String name = v.origin().filename();
    if (name != null) {
      out.add(Path.of(name).toAbsolutePath().normalize());
    }
    if (v instanceof com.typesafe.config.ConfigObject o) {
      o.values().forEach(c -> collectOrigins(c, out));
    } else if (v instanceof com.typesafe.config.ConfigList l) {
      l.forEach(c -> collectOrigins(c, out));
    }
  }

  private static ConfigParseOptions fileOptions() {
    return ConfigParseOptions.defaults().setSyntax(ConfigSyntax.CONF).setAllowMissing(false);
  }

  private static ConfigParseOptions parseOptions(String source) {
    return ConfigParseOptions.defaults().setSyntax(ConfigSyntax.CONF).setOriginDescription(source);
  }
}
