package io.tollgate.cli;

import io.tollgate.config.ConfigException;
import io.tollgate.config.ConfigLoader;
import io.tollgate.config.TollgateConfig;
import io.tollgate.snapshot.Snapshot;
import java.io.PrintWriter;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --config FILE}, shared by the commands that read a config. */
final class ConfigOption {
  @Option(
      names = {"-c", "--config"},
      required = true,
      paramLabel = "FILE",
      description = "HOCON config file (see conf/tollgate.conf).")
  Path file;

  /** Loads the file; prints every error to {@code err} and returns null when it is invalid. */
  TollgateConfig loadOrReport(PrintWriter err) {
    try {
      return ConfigLoader.load(file);
    } catch (ConfigException e) {
      report(err, e);
      return null;
    }
  }

  /**
   * Loads the file and builds the runtime objects from it as {@code run} would (backend names
   * resolved, certificates read, no health checks); prints every error to {@code err} and returns
   * null when either fails.
   */
  Snapshot buildOrReport(PrintWriter err) {
    TollgateConfig config = loadOrReport(err);
    if (config == null) {
      return null;
    }
    try {
      return Snapshot.build(config);
    } catch (ConfigException e) {
      report(err, e);
      return null;
    }
  }

  /** Prints every error of {@code e}, one per line under a header naming the file. */
  void report(PrintWriter err, ConfigException e) {
    err.println(file + ": " + e.errors().size() + " error(s):");
    e.errors().forEach(error -> err.println("  " + error));
    err.flush();
  }
}
