package io.tollgate.tls;

import io.tollgate.config.ConfigError;
import java.nio.file.Path;
import java.util.List;

/**
 * Where {@link TlsMaterial#build} reports what it finds: errors make the config unusable, warnings
 * are printed by {@code check} and logged by {@code run}. Each entry names the file it is about
 * ({@link ConfigError#origin()}) and the config key that named the file ({@link
 * ConfigError#path()}).
 */
final class TlsProblems {
  private final List<ConfigError> errors;
  private final List<ConfigError> warnings;

  TlsProblems(List<ConfigError> errors, List<ConfigError> warnings) {
    this.errors = errors;
    this.warnings = warnings;
  }

  void error(Path file, String configPath, String message) {
    error(file.toString(), configPath, message);
  }

  void error(String origin, String configPath, String message) {
    errors.add(new ConfigError(origin, configPath, message));
  }

  void warning(Path file, String configPath, String message) {
    warning(file.toString(), configPath, message);
  }

  void warning(String origin, String configPath, String message) {
    warnings.add(new ConfigError(origin, configPath, message));
  }

  /** A fresh, empty record (one per route when routes are built in parallel). */
  static TlsProblems separate() {
    return new TlsProblems(new java.util.ArrayList<>(), new java.util.ArrayList<>());
  }

  /** Reports everything {@code other} holds here, in its order. */
  void addAll(TlsProblems other) {
    errors.addAll(other.errors);
    warnings.addAll(other.warnings);
  }

  /** How many errors were reported so far (to tell whether a step added any). */
  /** Errors and warnings reported so far. */
  int count() {
    return errors.size() + warnings.size();
  }

  int errorCount() {
    return errors.size();
  }
}
