package io.tollgate.cli;

import io.netty.util.ResourceLeakDetector;
import io.tollgate.Tollgate;
import io.tollgate.admin.AdminServer;
import io.tollgate.config.AdminConfig;
import io.tollgate.config.ConfigException;
import io.tollgate.config.IoConfig;
import io.tollgate.config.TollgateConfig;
import io.tollgate.listener.InheritedSockets;
import io.tollgate.ops.AdminEndpoint;
import io.tollgate.ops.Lifecycle;
import io.tollgate.ops.Operations;
import io.tollgate.ops.Reloader;
import io.tollgate.ops.SocketActivation;
import io.tollgate.ops.SystemdNotifier;
import io.tollgate.upgrade.LaunchCommand;
import io.tollgate.upgrade.Takeover;
import io.tollgate.upgrade.Upgrader;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import org.slf4j.LoggerFactory;
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

  @Option(names = LaunchCommand.INHERIT_OPTION, hidden = true, paramLabel = "SOCKET")
  Path inheritFrom;

  /**
   * How long a successor may take to start, for {@code tollgate upgrade}: the JVM, the config's
   * load (8-13 s at 10,000 tenants on a 2-core machine) and the start-up warm-up ({@code
   * warmup.handshakes}, on by default, bounded by 30 s).
   */
  static final Duration UPGRADE_READY_TIMEOUT = Duration.ofSeconds(90);

  /** The JVM property that names Netty's leak detection level; set, it wins over our default. */
  static final String LEAK_DETECTION_PROPERTY = "io.netty.leakDetection.level";

  @Override
  public Integer call() throws InterruptedException {
    leakDetectionOffUnlessAsked();
    PrintWriter err = spec.commandLine().getErr();
    Takeover takeover = null;
    if (inheritFrom != null) {
      // Started by `tollgate upgrade`: take the old process's sockets before anything else, so
      // whatever goes wrong from here on reaches it (and the operator) through the hand-off.
      try {
        takeover = Takeover.connect(inheritFrom, Duration.ofSeconds(30));
      } catch (IOException e) {
        err.println("not taking over from " + inheritFrom + ": " + e.getMessage());
        err.flush();
        return 1;
      }
    }
    StringWriter errors = new StringWriter();
    PrintWriter report = takeover == null ? err : new PrintWriter(new Tee(err, errors));
    Integer failed = null;
    Tollgate tollgate = null;
    TollgateConfig cfg = config.loadOrReport(report);
    if (cfg == null) {
      report.println(
          "not starting: fix the errors above (tollgate check --config "
              + config.file
              + " lists them)");
      report.flush();
      failed = 1;
    } else {
      try {
        tollgate =
            Tollgate.start(
                cfg,
                nio ? IoConfig.Transport.NIO : cfg.io().transport(),
                takeover == null
                    ? InheritedSockets.of(SocketActivation.fromEnvironment())
                    : takeover.sockets(),
                true);
      } catch (ConfigException e) {
        config.report(report, e);
        failed = 1;
      } catch (IllegalStateException e) {
        report.println("not starting: " + e.getMessage());
        report.flush();
        failed = 1;
      }
    }
    if (takeover != null) {
      if (failed != null) {
        takeover.failed(errors.toString().lines().toList());
        takeover.close();
        return failed;
      }
      if (!takeover.started(UPGRADE_READY_TIMEOUT)) {
        err.println("not taking over: the old process gave up; it keeps serving");
        err.flush();
        takeover.close();
        tollgate.close();
        return 1;
      }
    } else if (failed != null) {
      return failed;
    }
    CompletableFuture<Lifecycle> lifecycle = new CompletableFuture<>();
    Operations.Upgrade upgrade =
        new Operations.Upgrade(
            LaunchCommand.ofThisProcess(TollgateCli.class, config.file, pidFile),
            () -> lifecycle.thenAccept(Lifecycle::requestStop),
            UPGRADE_READY_TIMEOUT);
    Operations ops;
    try {
      ops =
          Operations.start(
              config.file,
              cfg,
              tollgate,
              pidFile,
              takeover == null ? AdminServer::start : RunCommand::adminOrNone,
              upgrade);
    } catch (IllegalStateException e) {
      if (takeover != null) {
        // The old process has stopped accepting: serving without a pid file beats not serving.
        err.println("after taking over: " + e.getMessage() + "; serving anyway");
        err.flush();
        ops = null;
      } else {
        tollgate.close();
        err.println("not starting: " + e.getMessage());
        err.flush();
        return 1;
      }
    }
    if (takeover != null) {
      takeover.running();
      takeover.close();
    }
    // Listeners accept and every TLS context is built: systemd may now count the start as done
    // (and, for a restart, the socket it held meanwhile is served again).
    SystemdNotifier systemd = SystemdNotifier.fromEnvironment();
    systemd.ready("serving " + describe(tollgate));
    if (ops != null) {
      ops.rehearseReloads(cfg);
    }
    List<AutoCloseable> stopOrder = new ArrayList<>();
    // First in the stop order: systemd hears of the stop before the drain begins.
    stopOrder.add(() -> systemd.stopping("draining open connections"));
    stopOrder.add(tollgate);
    if (ops != null) {
      stopOrder.add(ops);
    }
    Lifecycle l = new Lifecycle(stopOrder);
    lifecycle.complete(l);
    l.awaitStop();
    return 0;
  }

  /**
   * Netty's default (SIMPLE) wraps one buffer in 128 in a leak tracker that records a stack trace:
   * on a small keep-alive request that was ~8 µs of the ~70 µs of proxy CPU (the traces, and C2
   * recompiling the buffer call sites each time the rare wrapper type turned up). Leaks are caught
   * where they are cheap to find, in the tests, which run paranoid; an operator chasing one in
   * production sets {@code -Dio.netty.leakDetection.level=simple}.
   */
  static void leakDetectionOffUnlessAsked() {
    if (System.getProperty(LEAK_DETECTION_PROPERTY) == null) {
      ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
    }
  }

  private static String describe(Tollgate tollgate) {
    StringBuilder sb = new StringBuilder();
    tollgate
        .addresses()
        .forEach((name, at) -> sb.append(sb.length() == 0 ? "" : ", ").append(name + "=" + at));
    return sb.toString();
  }

  /**
   * After a takeover the old endpoint has just closed; should the address still be taken, the data
   * path matters more than the admin endpoint, which is then off until the next start.
   */
  private static AdminEndpoint adminOrNone(
      AdminConfig config, Tollgate tollgate, Reloader reloader, Upgrader upgrader) {
    try {
      return AdminServer.start(config, tollgate, reloader, upgrader);
    } catch (IllegalStateException e) {
      LoggerFactory.getLogger(RunCommand.class)
          .error("admin endpoint not started after the upgrade: {}", e.getMessage());
      return null;
    }
  }

  /** Writes to two writers: the terminal and what goes back to the old process. */
  private static final class Tee extends java.io.Writer {
    private final java.io.Writer a;
    private final java.io.Writer b;

    Tee(java.io.Writer a, java.io.Writer b) {
      this.a = a;
      this.b = b;
    }

    @Override
    public void write(char[] buf, int off, int len) throws IOException {
      a.write(buf, off, len);
      b.write(buf, off, len);
    }

    @Override
    public void flush() throws IOException {
      a.flush();
      b.flush();
    }

    @Override
    public void close() throws IOException {
      flush();
    }
  }

  /**
   * Blocks until SIGTERM or Ctrl-C, then stops: a {@link Tollgate} among {@code resources} is
   * drained for its {@code timeouts.drain}, the others are closed, in order.
   */
  static void awaitShutdown(AutoCloseable... resources) throws InterruptedException {
    new io.tollgate.ops.Lifecycle(List.of(resources)).awaitStop();
  }
}
