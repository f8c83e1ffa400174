package io.tollgate.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Reads HOCON into a validated {@link TollgateConfig}. Defaults come from this module's
 * {@code reference.conf}. Every error in the file is reported at once.
 *
 * <p>Loading is: parse the user's document, fall back to {@code reference.conf}, resolve
 * substitutions (environment variables included, so {@code ${?PORT}} works; Java system
 * properties are deliberately not merged, so a stray {@code -Dtollgate...} cannot change a
 * checked file), then bind and validate every section ({@link TollgateBinder}). Thread-safe.
 */
public final class ConfigLoader {
  private static final String REFERENCE = "/reference.conf";

  private ConfigLoader() {}

  /**
   * Loads and validates a file; includes, and the relative paths of certificates, keys and
   * other files it names, are resolved relative to its directory. Errors name the file as given
   * (a relative path stays relative). The file is read as HOCON whatever its extension.
   *
   * @throws ConfigException listing every problem, each with {@code file:line}
   */
  public static TollgateConfig load(Path file) throws ConfigException {
    Objects.requireNonNull(file, "file");
    String source = file.toString();
    Config user;
    try {
      // No origin description here: typesafe's own file origin keeps includes pointing at their
      // own files.
      user = ConfigFactory.parseFile(file.toFile(),
          ConfigParseOptions.defaults().setSyntax(ConfigSyntax.CONF).setAllowMissing(false));
    } catch (com.typesafe.config.ConfigException e) {
      throw TypesafeErrors.toException(e, source);
    }
    return bind(user, source, FileRefs.besideFile(file));
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
    Config user;
    try {
      user = ConfigFactory.parseString(hocon, parseOptions(originName));
    } catch (com.typesafe.config.ConfigException e) {
      throw TypesafeErrors.toException(e, originName);
    }
    return bind(user, originName, FileRefs.workingDirectory());
  }

  private static ConfigParseOptions parseOptions(String source) {
    return ConfigParseOptions.defaults()
        .setSyntax(ConfigSyntax.CONF)
        .setOriginDescription(source);
  }

  private static TollgateConfig bind(Config user, String source, FileRefs files)
      throws ConfigException {
    Config merged;
    try {
      merged = user.withFallback(Reference.CONFIG).resolve();
    } catch (com.typesafe.config.ConfigException e) {
      throw TypesafeErrors.toException(e, source);
    }
    Problems problems = new Problems(new Origins(user.root(), source));
    var config = TollgateBinder.bind(problems, merged.root(), source, files);
    if (!problems.isEmpty()) {
      throw problems.toException();
    }
    // Every path that yields no config records why, so this only fails on a binder bug.
    return config.orElseThrow(() -> new IllegalStateException("config rejected without error"));
  }

  /** This module's defaults, parsed once (Config is immutable, so sharing it is safe). */
  private static final class Reference {
    static final Config CONFIG = load();

    private static Config load() {
      try {
        return ConfigFactory.parseResources(ConfigLoader.class, REFERENCE,
            ConfigParseOptions.defaults().setAllowMissing(false));
      } catch (com.typesafe.config.ConfigException e) {
        // A packaging bug, not a user error: the jar must ship reference.conf.
        throw new IllegalStateException("cannot load " + REFERENCE + " of lb-config", e);
      }
    }
  }
}
