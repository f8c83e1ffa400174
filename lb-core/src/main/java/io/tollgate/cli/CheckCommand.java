package io.tollgate.cli;

import io.tollgate.config.TollgateConfig;
import io.tollgate.snapshot.Snapshot;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code tollgate check --config FILE [--strict]}: validate, like {@code haproxy -c}. Warnings (an
 * expired certificate, one missing its intermediate...) do not fail the check, since {@code run}
 * serves such a config; {@code --strict} makes them fail it, for CI pipelines.
 */
@Command(
    name = "check",
    mixinStandardHelpOptions = true,
    description = {
      "Validate a config file: print every error with file:line and key, and exit 1;",
      "or print a summary (and any warnings) and exit 0. Backend host names are resolved",
      "and certificate, key and CA files are read and checked too. Warnings (such as an",
      "expired certificate) do not fail the check unless --strict is given."
    })
final class CheckCommand implements Callable<Integer> {
  @Mixin ConfigOption config;
  @Spec CommandSpec spec;

  @Option(
      names = "--strict",
      description =
          "Fail (exit 1) on warnings too, e.g. an expired certificate: for CI pipelines"
              + " that must not ship a config Tollgate would serve with a warning.")
  boolean strict;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    Snapshot snapshot = config.buildOrReport(err);
    if (snapshot == null) {
      return 1;
    }
    TollgateConfig cfg = snapshot.config();
    snapshot.warnings().forEach(w -> err.println("warning: " + w));
    if (strict && !snapshot.warnings().isEmpty()) {
      err.println(
          config.file
              + ": "
              + snapshot.warnings().size()
              + " warning(s), failing because of --strict");
      err.flush();
      return 1;
    }
    err.flush();
    out.printf(
        "%s: OK (%d listener(s), %d route(s), %d pool(s), default route: %s)%n",
        config.file,
        cfg.listeners().size(),
        cfg.routes().size(),
        cfg.pools().size(),
        cfg.defaultRoute().reject() ? "reject" : "pool " + cfg.defaultRoute().pool());
    out.flush();
    return 0;
  }
}
