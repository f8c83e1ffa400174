package io.tollgate.ops;

import io.tollgate.Tollgate;
import io.tollgate.config.FileWatch;
import io.tollgate.config.TollgateConfig;
import io.tollgate.upgrade.LaunchCommand;
import io.tollgate.upgrade.Upgrader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What {@code tollgate run} starts beside the data path: the pid file, the SIGHUP handler, the
 * admin endpoint (when configured, started by the given {@link AdminEndpoint.Starter}) and the file
 * watcher, all reloading through one {@link Reloader}. {@code run} closes it after the shutdown
 * drain, so {@code GET /status} shows the drain while it lasts (reloads are refused then); closing
 * stops them and removes the pid file. A reload does not move the admin endpoint: its address and
 * token-file path take effect at the next start.
 */
public final class Operations implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Operations.class);

  private final Reloader reloader;
  private final AdminEndpoint admin;
  private final ConfigWatcher watcher;
  private final Path pidFile;
  private final Upgrader upgrader;
  private volatile ReloadRehearsal rehearsal;

  private Operations(
      Reloader reloader,
      AdminEndpoint admin,
      ConfigWatcher watcher,
      Path pidFile,
      Upgrader upgrader) {
    this.reloader = reloader;
    this.admin = admin;
    this.watcher = watcher;
    this.pidFile = pidFile;
    this.upgrader = upgrader;
  }

  /**
   * How this process can be replaced by a new one ({@code tollgate upgrade}).
   *
   * @param launch the command that starts the successor
   * @param stop starts this process's drain and exit once the successor accepts
   * @param readyTimeout how long the successor may take to start
   */
  public record Upgrade(LaunchCommand launch, Runnable stop, Duration readyTimeout) {}

  /** As the other {@code start}, without upgrades. */
  public static Operations start(
      Path configFile,
      TollgateConfig config,
      Tollgate tollgate,
      Path pidFile,
      AdminEndpoint.Starter adminEndpoint) {
    return start(configFile, config, tollgate, pidFile, adminEndpoint, null);
  }

  /**
   * @param pidFile where to write this process's id, or null
   * @param adminEndpoint starts the admin endpoint when the config has one ({@code
   *     AdminServer::start})
   * @param upgrade how to start a successor (SIGUSR2, {@code POST /upgrade}), or null
   * @throws IllegalStateException when the admin endpoint or the pid file cannot be set up
   */
  public static Operations start(
      Path configFile,
      TollgateConfig config,
      Tollgate tollgate,
      Path pidFile,
      AdminEndpoint.Starter adminEndpoint,
      Upgrade upgrade) {
    Reloader reloader = new Reloader(configFile, tollgate);
    // The upgrader frees the admin address for the successor; the endpoint is started after it.
    AtomicReference<AdminEndpoint> started = new AtomicReference<>();
    Upgrader upgrader =
        upgrade == null
            ? null
            : new Upgrader(
                tollgate,
                upgrade.launch(),
                new Upgrader.Hooks() {
                  @Override
                  public void release() {
                    AdminEndpoint a = started.get();
                    if (a != null) {
                      a.stopAccepting();
                    }
                  }

                  @Override
                  public void stop() {
                    upgrade.stop().run();
                  }
                },
                upgrade.readyTimeout());
    AdminEndpoint admin =
        config
            .ops()
            .admin()
            .map(a -> adminEndpoint.start(a, tollgate, reloader, upgrader))
            .orElse(null);
    started.set(admin);
    // Handlers before the pid file: whoever reads the pid file may signal at once, and a SIGHUP
    // or SIGUSR2 that finds no handler ends the JVM.
    Signals.handle("HUP", () -> reloader.reload("SIGHUP"));
    log.info("Reloads: {}", FileWatch.shared().describe());
    if (upgrader != null) {
      Signals.handle("USR2", () -> upgrader.upgrade("SIGUSR2", r -> writeOutcome(pidFile, r)));
      if (Signals.usr2SuspendsThreads(System.getenv())) {
        // Still taken: without a handler a JVM whose suspend signal it is dies of a stray one.
        log.warn(
            "SIGUSR2 is also this JVM's thread-suspend signal ({} is not set): profiling this"
                + " process with JFR would start a live upgrade on every sample. Start Tollgate with"
                + " {}=39 in its environment, as scripts/tollgate and the systemd unit do",
            Signals.SUSPEND_SIGNAL_VARIABLE,
            Signals.SUSPEND_SIGNAL_VARIABLE);
      }
    }
    if (pidFile != null) {
      try {
        Files.writeString(pidFile, ProcessHandle.current().pid() + "\n", StandardCharsets.UTF_8);
      } catch (IOException e) {
        if (admin != null) {
          admin.close();
        }
        throw new IllegalStateException("cannot write pid file " + pidFile + ": " + e, e);
      }
    }
    ConfigWatcher watcher =
        config.ops().watch()
            ? new ConfigWatcher(
                    configFile,
                    () -> tollgate.snapshot().config(),
                    () -> reloader.reload("watch"),
                    ConfigWatcher.DEFAULT_INTERVAL)
                .start()
            : null;
    return new Operations(reloader, admin, watcher, pidFile, upgrader);
  }

  /** Where {@code tollgate upgrade} reads the outcome: beside the pid file (written atomically). */
  private static void writeOutcome(Path pidFile, Upgrader.Result result) {
    if (pidFile == null) {
      return;
    }
    Path outcome = Upgrader.outcomeFile(pidFile);
    Path tmp = outcome.resolveSibling(outcome.getFileName() + ".tmp");
    try {
      Files.writeString(tmp, result.text(), StandardCharsets.UTF_8);
      Files.move(tmp, outcome, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      log.warn("could not write the upgrade outcome to {}: {}", outcome, e.toString());
    }
  }

  /** What {@code POST /upgrade} and SIGUSR2 run, or null when this process cannot be upgraded. */
  public Upgrader upgrader() {
    return upgrader;
  }

  public Reloader reloader() {
    return reloader;
  }

  /** The admin endpoint, or null when not configured. */
  public AdminEndpoint admin() {
    return admin;
  }

  /**
   * Starts the rehearsal of {@code warmup.reloads} (README, "Reload rehearsal") in the background,
   * when the config asks for one; call it once the listeners accept.
   */
  public void rehearseReloads(TollgateConfig config) {
    int rounds = config.ops().reloadRehearsals(config.routes().size());
    if (rounds > 0 && rehearsal == null) {
      rehearsal = ReloadRehearsal.start(reloader, rounds);
    }
  }

  @Override
  public void close() {
    ReloadRehearsal r = rehearsal;
    if (r != null) {
      r.close();
    }
    if (watcher != null) {
      watcher.close();
    }
    if (admin != null) {
      admin.close();
    }
    deletePidFile(pidFile);
  }

  /** Removes the pid file unless a successor has written its own pid there (an upgrade). */
  private static void deletePidFile(Path pidFile) {
    if (pidFile != null) {
      try {
        String mine = Long.toString(ProcessHandle.current().pid());
        if (Files.exists(pidFile) && !Files.readString(pidFile).strip().equals(mine)) {
          return;
        }
        Files.deleteIfExists(pidFile);
      } catch (IOException e) {
        log.warn("could not remove pid file {}: {}", pidFile, e.toString());
      }
    }
  }
}
