package io.tollgate.config.bind;

import io.tollgate.config.ConfigError;
import io.tollgate.config.ConfigException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Collects every error found while binding a config, so one run reports them all, and the warnings:
 * settings that are allowed but probably not meant, which never stop a load. Not thread-safe; one
 * instance per load.
 */
final class Problems {
  private final Origins origins;
  private final List<Entry> entries = new ArrayList<>();
  private final List<Entry> warnings = new ArrayList<>();

  Problems(Origins origins) {
    this.origins = origins;
  }

  Origins origins() {
    return origins;
  }

  void add(Origins.Location where, String path, String message) {
    entries.add(new Entry(where, entries.size(), new ConfigError(where.toString(), path, message)));
  }

  void warn(Origins.Location where, String path, String message) {
    warnings.add(
        new Entry(where, warnings.size(), new ConfigError(where.toString(), path, message)));
  }

  /** Errors and warnings recorded so far: a binder that added none bound its part cleanly. */
  int count() {
    return entries.size() + warnings.size();
  }

  /** True when there is no error; warnings do not count. */
  boolean isEmpty() {
    return entries.isEmpty();
  }

  /** The errors in file order (file name, then line), ties kept in the order found. */
  List<ConfigError> errors() {
    return inFileOrder(entries);
  }

  /** The warnings, ordered as {@link #errors()}. */
  List<ConfigError> warnings() {
    return inFileOrder(warnings);
  }

  private static List<ConfigError> inFileOrder(List<Entry> entries) {
    return entries.stream()
        .sorted(
            Comparator.comparing((Entry e) -> e.where.file())
                .thenComparingInt(e -> e.where.line())
                .thenComparingInt(e -> e.seq))
        .map(Entry::error)
        .toList();
  }

  ConfigException toException() {
    return new ConfigException(errors());
  }

  private record Entry(Origins.Location where, int seq, ConfigError error) {}
}
