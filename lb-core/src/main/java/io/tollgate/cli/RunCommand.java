package io.tollgate.cli;

import io.tollgate.Tollgate;
import io.tollgate.admin.AdminServer;
import io.tollgate.config.ConfigException;
import io.tollgate.config.IoConfig;
import io.tollgate.config.TollgateConfig;
import io.tollgate.listener.InheritedSockets;
import io.tollgate.ops.Operations;
import io.tollgate.ops.SocketActivation;
import io.tollgate.ops.SystemdNotifier;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code tollgate run --config FILE}: run until SIGTERM or Ctrl-C, then drain. SIGHUP reloads; the
 * admin endpoint and {@code watch} start when the config asks for them.
 *
 * <p>Under systemd: listening sockets passed by a socket unit ({@code LISTEN_FDS}) are adopted
 * instead of bound ({@link SocketActivation}), and {@code READY=1} / {@code STOPPING=1} go to
 * {@code NOTIFY_SOCKET} ({@link SystemdNotifier}) for {@code Type=notify}.
 */
@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    description = {
      "Run Tollgate with a config file. SIGHUP (or `tollgate reload`) reloads it; SIGTERM or",
      "Ctrl-C fails GET /ready and keeps accepting for timeouts.withdraw, then stops",
      "accepting, lets connections finish for timeouts.drain, and exits 0; each further",
      "signal cuts the withdraw period or the drain short."
    })
final class RunCommand implements Callable<Integer> {
  @Mixin ConfigOption config;
  @Spec CommandSpec spec;

  @Option(
      names = "--nio",
      description = "Use the JDK's NIO transport even where epoll is available.")
  boolean nio;

  @Option(
      names = "--pid-file",
      paramLabel = "FILE",
      description =
          "Write the process id here (removed on exit), for `tollgate reload"
              + " --pid-file FILE` and scripts that send signals.")
  Path pidFile;

  @Override
  public Integer call() throws InterruptedException {
    PrintWriter err = spec.commandLine().getErr();
    TollgateConfig cfg = config.loadOrReport(err);
    if (cfg == null) {
      err.println(
          "not starting: fix the errors above (tollgate check --config "
              + config.file
              + " lists them)");
      err.flush();
      return 1;
    }
    Tollgate tollgate;
    try {
      InheritedSockets inherited = InheritedSockets.of(SocketActivation.fromEnvironment());
      tollgate =
          Tollgate.start(cfg, nio ? IoConfig.Transport.NIO : cfg.io().transport(), inherited);
    } catch (ConfigException e) {
      config.report(err, e);
      return 1;
    } catch (IllegalStateException e) {
      err.println("not starting: " + e.getMessage());
      err.flush();
      return 1;
    }
    Operations ops;
    try {
      ops = Operations.start(config.file, cfg, tollgate, pidFile, AdminServer::start);
    } catch (IllegalStateException e) {
      tollgate.close();
      err.println("not starting: " + e.getMessage());
      err.flush();
      return 1;
    }
    // Listeners accept and every TLS context is built: systemd may now count the start as done
    // (and, for a restart, the socket it held meanwhile is served again).
    SystemdNotifier systemd = SystemdNotifier.fromEnvironment();
    systemd.ready("serving " + describe(tollgate));
    // First in the stop order: systemd hears of the stop before the drain begins.
    awaitShutdown(() -> systemd.stopping("draining open connections"), tollgate, ops);
    return 0;
  }

  private static String describe(Tollgate tollgate) {
    StringBuilder sb = new StringBuilder();
    tollgate
        .addresses()
        .forEach((name, at) -> sb.append(sb.length() == 0 ? "" : ", ").append(name + "=" + at));
    return sb.toString();
  }

  /**
   * Blocks until SIGTERM or Ctrl-C, then stops: a {@link Tollgate} among {@code resources} is
   * drained for its {@code timeouts.drain}, the others are closed, in order.
   */
  static void awaitShutdown(AutoCloseable... resources) throws InterruptedException {
    new io.tollgate.ops.Lifecycle(List.of(resources)).awaitStop();
  }
}
