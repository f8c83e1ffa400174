package io.tollgate.cli;

import io.tollgate.Tollgate;
import io.tollgate.config.ConfigException;
import io.tollgate.config.IoConfig;
import io.tollgate.config.TollgateConfig;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code tollgate run --config FILE}: run until interrupted. */
@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    description = "Run Tollgate with a config file until Ctrl-C or SIGTERM.")
final class RunCommand implements Callable<Integer> {
  @Mixin ConfigOption config;
  @Spec CommandSpec spec;

  @Option(
      names = "--nio",
      description = "Use the JDK's NIO transport even where epoll is available.")
  boolean nio;

  @Override
  public Integer call() throws InterruptedException {
    PrintWriter err = spec.commandLine().getErr();
    TollgateConfig cfg = config.loadOrReport(err);
    if (cfg == null) {
      err.println("not starting: fix the errors above (tollgate check --config " + config.file
          + " lists them)");
      err.flush();
      return 1;
    }
    Tollgate tollgate;
    try {
      tollgate = Tollgate.start(cfg, nio ? IoConfig.Transport.NIO : cfg.io().transport());
    } catch (ConfigException e) {
      config.report(err, e);
      return 1;
    } catch (IllegalStateException e) {
      err.println("not starting: " + e.getMessage());
      err.flush();
      return 1;
    }
    awaitShutdown(tollgate);
    return 0;
  }

  /** Blocks until the JVM is asked to stop, then closes Tollgate before it exits. */
  static void awaitShutdown(AutoCloseable... resources) throws InterruptedException {
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  for (AutoCloseable r : resources) {
                    try {
                      r.close();
                    } catch (Exception e) {
                      // Shutting down anyway; nothing useful to do with it.
                    }
                  }
                  stopped.countDown();
                },
                "tollgate-shutdown"));
    stopped.await();
  }
}
