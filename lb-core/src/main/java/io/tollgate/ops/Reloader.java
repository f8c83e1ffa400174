package io.tollgate.ops;

import io.tollgate.Tollgate;
import io.tollgate.config.ConfigError;
import io.tollgate.config.ConfigException;
import io.tollgate.config.ConfigLoader;
import io.tollgate.config.TollgateConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Re-reads the config file, and with it every certificate, key and CA file it names, and hands the
 * result to {@link Tollgate#reload}. An invalid file is rejected with its errors, logged and
 * returned, and the config in force keeps running. One reload at a time, whoever asks (SIGHUP, the
 * admin endpoint, the file watcher).
 */
public final class Reloader {
  private static final Logger log = LoggerFactory.getLogger(Reloader.class);

  /**
   * What a reload did.
   *
   * @param ok whether the new config is in force
   * @param version the config version in force afterwards
   * @param errors why it was rejected, one line each ({@code file:line: key: message})
   */
  public record Result(boolean ok, long version, List<String> errors) {
    public Result {
      errors = List.copyOf(errors);
    }
  }

  private final Path configFile;
  private final Tollgate tollgate;
  private final AtomicLong succeeded = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();
  private volatile List<String> lastErrors = List.of();

  /** Set when a real reload is asked for: a rehearsal still running stops at its next round. */
  private volatile boolean asked;

  private static final int REREAD = 0;
  private static final int LEAVE_OUT = 1;

  /** Whether the rehearsal still tries rounds with a tenant left out (see {@link #rehearse}). */
  private boolean rehearseLeavingOut = true;

  public Reloader(Path configFile, Tollgate tollgate) {
    this.configFile = Objects.requireNonNull(configFile, "configFile");
    this.tollgate = Objects.requireNonNull(tollgate, "tollgate");
  }

  /**
   * Loads the config file and applies it.
   *
   * @param trigger who asked, for the log ("SIGHUP", "POST /reload", "watch")
   */
  public Result reload(String trigger) {
    asked = true; // before the lock: a rehearsal round holding it is the last one
    return reloadInTurn(trigger);
  }

  private synchronized Result reloadInTurn(String trigger) {
    log.info("Reloading {} ({})", configFile, trigger);
    List<String> errors;
    try {
      TollgateConfig config;
      long started = System.nanoTime();
      try {
        config = ConfigLoader.load(configFile);
      } catch (ConfigException | RuntimeException e) {
        tollgate.metrics().reloaded(false); // Tollgate.reload counts its own outcomes
        throw e;
      }
      long loaded = System.nanoTime();
      tollgate.reload(config);
      // What a reload of many tenants costs, by part, where an operator looks first.
      log.info(
          "Reload of {} took {} ms (config {} ms, apply {} ms)",
          configFile,
          (System.nanoTime() - started) / 1_000_000,
          (loaded - started) / 1_000_000,
          (System.nanoTime() - loaded) / 1_000_000);
      succeeded.incrementAndGet();
      lastErrors = List.of();
      return new Result(true, tollgate.configVersion(), List.of());
    } catch (ConfigException e) {
      errors = e.errors().stream().map(ConfigError::toString).toList();
    } catch (RuntimeException e) {
      // Not a config mistake: a bug or the environment (out of file descriptors, ...).
      log.error("Reload of {} failed unexpectedly", configFile, e);
      errors = List.of(configFile + ": " + e);
    }
    failed.incrementAndGet();
    lastErrors = errors;
    log.error(
        "Reload rejected, config version {} stays in force; {} error(s):\n  {}",
        tollgate.configVersion(),
        errors.size(),
        String.join("\n  ", errors));
    return new Result(false, tollgate.configVersion(), errors);
  }

  /**
   * One round of a reload rehearsal ({@link ReloadRehearsal}), in turn: the files as they are with
   * one tenant file read again; one tenant file left out as if removed (not tried again once that
   * does not load: another file routes to its pool); one pool's weights changed in what was loaded.
   * Either way the snapshot is built and dropped. Under the reload lock, so it never overlaps a
   * real reload.
   *
   * @return false when the rehearsal should stop: a real reload was asked for, the files do not
   *     load (the next real reload says why), or there is nothing to rehearse with
   */
  synchronized boolean rehearse(int round) {
    if (asked) {
      return false;
    }
    // The left-out round in the middle: a number of rounds that is a multiple of three (the
    // default 60) ends with a plain load, whose memo the first real reload then takes over whole
    // (after a left-out round it binds that tenant again and checks every route's pool: slower,
    // not wrong).
    int kind = round % 3;
    // A reread in place of a left-out round takes the next file, not the one just read again.
    int index = round / 3;
    if (kind == LEAVE_OUT && !rehearseLeavingOut) {
      kind = REREAD;
      index = 2 * index + 1;
    } else if (kind == REREAD && !rehearseLeavingOut) {
      index = 2 * index;
    }
    try {
      TollgateConfig config =
          switch (kind) {
            case REREAD -> ConfigLoader.loadRereadingTenant(configFile, index);
            case LEAVE_OUT -> ConfigLoader.loadLeavingOutTenant(configFile, round / 3);
            default ->
                ReloadRehearsal.withOnePoolReweighted(ConfigLoader.load(configFile), round / 3);
          };
      return tollgate.rehearseReload(config);
    } catch (ConfigException e) {
      if (kind == LEAVE_OUT) {
        rehearseLeavingOut = false;
        log.debug(
            "Reload rehearsal: a tenant left out does not load; not rehearsed: {}", e.toString());
        return true;
      }
      log.debug("Reload rehearsal stopped: {}", e.toString());
      return false;
    } catch (RuntimeException e) {
      // Not the files: a bug or the environment, which a real reload would meet too.
      log.warn("Reload rehearsal stopped", e);
      return false;
    }
  }

  public long succeeded() {
    return succeeded.get();
  }

  public long failed() {
    return failed.get();
  }

  /** The errors of the last reload if it was rejected, else empty. */
  public List<String> lastErrors() {
    return lastErrors;
  }
}
