package io.tollgate.ops;

import io.tollgate.Tollgate;
import io.tollgate.config.TollgateConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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

  private Operations(Reloader reloader, AdminEndpoint admin, ConfigWatcher watcher, Path pidFile) {
    this.reloader = reloader;
    this.admin = admin;
    this.watcher = watcher;
    this.pidFile = pidFile;
  }

  /**
   * @param pidFile where to write this process's id, or null
   * @param adminEndpoint starts the admin endpoint when the config has one ({@code
   *     AdminServer::start})
   * @throws IllegalStateException when the admin endpoint or the pid file cannot be set up
   */
  public static Operations start(
      Path configFile,
      TollgateConfig config,
      Tollgate tollgate,
      Path pidFile,
      AdminEndpoint.Starter adminEndpoint) {
    Reloader reloader = new Reloader(configFile, tollgate);
    if (pidFile != null) {
      try {
        Files.writeString(pidFile, ProcessHandle.current().pid() + "\n", StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new IllegalStateException("cannot write pid file " + pidFile + ": " + e, e);
      }
    }
    AdminEndpoint admin = null;
    try {
      admin =
          config.ops().admin().map(a -> adminEndpoint.start(a, tollgate, reloader)).orElse(null);
    } catch (IllegalStateException e) {
      deletePidFile(pidFile);
      throw e;
    }
    Signals.handle("HUP", () -> reloader.reload("SIGHUP"));
    ConfigWatcher watcher =
        config.ops().watch()
            ? new ConfigWatcher(
                    configFile,
                    () -> tollgate.snapshot().config(),
                    () -> reloader.reload("watch"),
                    ConfigWatcher.DEFAULT_INTERVAL)
                .start()
            : null;
    return new Operations(reloader, admin, watcher, pidFile);
  }

  public Reloader reloader() {
    return reloader;
  }

  /** The admin endpoint, or null when not configured. */
  public AdminEndpoint admin() {
    return admin;
  }

  @Override
  public void close() {
    if (watcher != null) {
      watcher.close();
    }
    if (admin != null) {
      admin.close();
    }
    deletePidFile(pidFile);
  }

  private static void deletePidFile(Path pidFile) {
    if (pidFile != null) {
      try {
        Files.deleteIfExists(pidFile);
      } catch (IOException e) {
        log.warn("could not remove pid file {}: {}", pidFile, e.toString());
      }
    }
  }
}
