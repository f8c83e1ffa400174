package io.tollgate.config.bind;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import io.tollgate.config.ConfigException;
import io.tollgate.config.ConfigLoader;
import io.tollgate.config.TollgateConfig;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The one door into this package, for {@link ConfigLoader}: it decides how the user's document is
 * read (a file, or text), this turns it into a {@link TollgateConfig} or every error it holds.
 * Everything else here stays package-private, so the model package shows only the records.
 */
public final class Binding {
  private static final String REFERENCE = "/reference.conf";

  private Binding() {}

  /**
   * Parses the user's document, falls back to {@code reference.conf}, resolves substitutions, then
   * binds and validates every section ({@link TollgateBinder}).
   *
   * @param source names the document in errors ({@code source:line} when typesafe-config has no
   *     file name for a position)
   * @param configFile relative paths the config names are resolved against this file's directory;
   *     when empty, against the working directory
   * @param parse reads the user's document; a typesafe-config exception it throws (missing file,
   *     syntax error) becomes the load's one error
   * @throws ConfigException listing every problem, each with {@code file:line}
   */
  public static TollgateConfig bind(
      String source, Optional<Path> configFile, Supplier<Config> parse) throws ConfigException {
    return bind(source, configFile, parse, -1);
  }

  /**
   * As {@link #bind(String, Optional, Supplier)}; with {@code rereadTenant >= 0}, the tenant file
   * at that index (modulo their number) is parsed and bound again rather than taken from the last
   * load (a reload rehearsal).
   */
  public static TollgateConfig bind(
      String source, Optional<Path> configFile, Supplier<Config> parse, int rereadTenant)
      throws ConfigException {
    return bind(source, configFile, parse, rereadTenant, -1);
  }

  /**
   * As {@link #bind(String, Optional, Supplier, int)}; with {@code leaveOutTenant >= 0}, the tenant
   * file at that index (modulo their number) is left out as if it had been removed (a reload
   * rehearsal: the paths a removed or added tenant takes).
   */
  public static TollgateConfig bind(
      String source,
      Optional<Path> configFile,
      Supplier<Config> parse,
      int rereadTenant,
      int leaveOutTenant)
      throws ConfigException {
    Config user;
    Config merged;
    try {
      user = parse.get();
      merged = user.withFallback(Reference.CONFIG).resolve();
    } catch (com.typesafe.config.ConfigException e) {
      throw TypesafeErrors.toException(e, source);
    }
    Path base =
        configFile
            .map(f -> f.toAbsolutePath().normalize().getParent())
            .orElseGet(() -> Path.of("").toAbsolutePath());
    Optional<Path> tenants = TenantFiles.directory(merged, base);
    if (tenants.isPresent()) {
      TenantFiles.Spliced spliced =
          TenantFiles.splice(user, merged, tenants.get(), rereadTenant, leaveOutTenant);
      user = spliced.user();
      merged = spliced.merged();
    }
    FileRefs files = configFile.map(FileRefs::besideFile).orElseGet(FileRefs::workingDirectory);
    Problems problems = new Problems(new Origins(user.root(), source));
    // Only a file's tenants come back as the same parsed values (ParsedTenants), so only a file
    // has a memo.
    BindMemo memo = configFile.map(BindMemo::forFile).orElse(BindMemo.NONE);
    var config = TollgateBinder.bind(problems, merged.root(), source, files, memo);
    if (!problems.isEmpty()) {
      throw problems.toException();
    }
    memo.keep();
    // Every path that yields no config records why, so this only fails on a binder bug.
    return config.orElseThrow(() -> new IllegalStateException("config rejected without error"));
  }

  /**
   * The tenant directory {@code user} (the unresolved parse of {@code configFile}) names, and its
   * tenant files; empty without one or when it cannot be read.
   */
  public static java.util.List<Path> tenantFiles(
      Config user, Path configFile, io.tollgate.config.FileWatch.Scan scan) {
    try {
      Config merged = user.withFallback(Reference.CONFIG).resolve();
      Optional<Path> dir =
          TenantFiles.directory(merged, configFile.toAbsolutePath().normalize().getParent());
      if (dir.isEmpty()) {
        return java.util.List.of();
      }
      java.util.List<Path> out = new java.util.ArrayList<>();
      out.add(dir.get());
      TenantFiles.list(dir.get(), scan).forEach(p -> out.add(p.toAbsolutePath().normalize()));
      return out;
    } catch (com.typesafe.config.ConfigException e) {
      return java.util.List.of();
    }
  }

  /** This module's defaults, parsed once (Config is immutable, so sharing it is safe). */
  private static final class Reference {
    static final Config CONFIG = load();

    private static Config load() {
      try {
        return ConfigFactory.parseResources(
            Binding.class, REFERENCE, ConfigParseOptions.defaults().setAllowMissing(false));
      } catch (com.typesafe.config.ConfigException e) {
        // A packaging bug, not a user error: the jar must ship reference.conf.
        throw new IllegalStateException("cannot load " + REFERENCE + " of lb-config", e);
      }
    }
  }
}
