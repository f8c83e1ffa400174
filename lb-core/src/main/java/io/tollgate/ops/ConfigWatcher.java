package io.tollgate.ops;

import io.tollgate.config.CertificateFiles;
import io.tollgate.config.CertificateSource;
import io.tollgate.config.ConfigLoader;
import io.tollgate.config.PoolConfig;
import io.tollgate.config.RouteConfig;
import io.tollgate.config.TollgateConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code watch = true}: reloads when the config file (or a file it includes) or a certificate, key,
 * OCSP, CA, ticket-key or token file it names changes, or a file appears in, changes in or leaves
 * {@code certificates.directory}.
 *
 * <p>Polls each file's modification time and size (following symbolic links) every {@code interval}
 * rather than using a {@code WatchService}: the files are few, a poll costs a few {@code stat}
 * calls, and polling also sees atomic renames, symlink swaps (Kubernetes ConfigMaps and Secrets)
 * and network file systems that inotify misses. Debounced: a change is acted on once the files have
 * stayed the same for one more interval, so a deploy that writes a certificate and then its key
 * reloads once, with both.
 */
public final class ConfigWatcher implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ConfigWatcher.class);
  public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(1);

  private final Path configFile;
  private final Supplier<TollgateConfig> current;
  private final Runnable reload;
  private final Duration interval;
  private final Thread thread;
  private volatile boolean stopped;
  private volatile Map<Path, String> initial;

  /**
   * @param current the config in force, whose named files are watched
   * @param reload what to do on a change (the {@link Reloader})
   */
  public ConfigWatcher(
      Path configFile, Supplier<TollgateConfig> current, Runnable reload, Duration interval) {
    this.configFile = configFile;
    this.current = current;
    this.reload = reload;
    this.interval = interval;
    this.thread = new Thread(this::run, "tollgate-watch");
    this.thread.setDaemon(true);
  }

  /** Takes the files' state now (changes from here on count), then polls on its own thread. */
  public ConfigWatcher start() {
    initial = fingerprint();
    thread.start();
    log.info("Watching {} and the files it names for changes (every {})", configFile, interval);
    return this;
  }

  private void run() {
    Map<Path, String> applied = initial;
    Map<Path, String> previous = applied;
    while (!stopped) {
      try {
        Thread.sleep(interval.toMillis());
      } catch (InterruptedException e) {
        return;
      }
      Map<Path, String> now = fingerprint();
      if (!now.equals(applied) && now.equals(previous)) {
        log.info("Changed: {}", changed(applied, now));
        try {
          reload.run();
        } catch (RuntimeException e) {
          log.error("Reload after a file change failed", e);
        }
        // The set of files may have changed with the config: start again from what is there.
        applied = fingerprint();
        now = applied;
      }
      previous = now;
    }
  }

  /** Every watched file with its modification time and size ("missing" if it is not there). */
  Map<Path, String> fingerprint() {
    Map<Path, String> out = new TreeMap<>();
    for (Path p : files()) {
      out.put(p, stat(p));
    }
    return out;
  }

  private Set<Path> files() {
    Set<Path> files = new TreeSet<>(ConfigLoader.sourceFiles(configFile));
    TollgateConfig c = current.get();
    c.certificates()
        .directory()
        .ifPresent(
            dir -> {
              try (Stream<Path> list = Files.list(dir)) {
                list.forEach(files::add);
              } catch (IOException e) {
                files.add(dir);
              }
            });
    c.certificates().trustedRoots().ifPresent(files::add);
    c.tls().sessionTicketKeys().ifPresent(files::add);
    c.ops().admin().flatMap(a -> a.tokenFile()).ifPresent(files::add);
    for (RouteConfig r : c.routes()) {
      r.tls()
          .ifPresent(
              tls -> {
                if (tls.certificate() instanceof CertificateSource.Files f) {
                  f.files().forEach(cf -> add(files, cf));
                }
                tls.clientAuth().ifPresent(ca -> files.add(ca.ca()));
              });
    }
    for (PoolConfig p : c.pools().values()) {
      p.tls()
          .ifPresent(
              tls -> {
                tls.ca().ifPresent(files::add);
                tls.certificate().ifPresent(cf -> add(files, cf));
              });
    }
    return files;
  }

  private static void add(Set<Path> files, CertificateFiles cf) {
    files.add(cf.chain());
    files.add(cf.key());
    // Stapled from <chain>.ocsp when no ocsp file is named.
    files.add(cf.ocsp().orElse(cf.chain().resolveSibling(cf.chain().getFileName() + ".ocsp")));
  }

  private static String stat(Path p) {
    try {
      return Files.getLastModifiedTime(p).toMillis() + "/" + Files.size(p);
    } catch (IOException e) {
      return "missing";
    }
  }

  private static String changed(Map<Path, String> before, Map<Path, String> after) {
    Set<Path> all = new TreeSet<>(before.keySet());
    all.addAll(after.keySet());
    return all.stream()
        .filter(p -> !String.valueOf(before.get(p)).equals(String.valueOf(after.get(p))))
        .map(Path::toString)
        .toList()
        .toString();
  }

  @Override
  public void close() {
    stopped = true;
    thread.interrupt();
  }
}
