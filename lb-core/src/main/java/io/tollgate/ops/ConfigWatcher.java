package io.tollgate.ops;

import io.tollgate.config.CertificateFiles;
import io.tollgate.config.CertificateSource;
import io.tollgate.config.ConfigLoader;
import io.tollgate.config.FileStamp;
import io.tollgate.config.FileWatch;
import io.tollgate.config.PoolConfig;
import io.tollgate.config.RouteConfig;
import io.tollgate.config.TollgateConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code watch = true}: reloads when the config file (or a file it includes) or a certificate, key,
 * OCSP, CA, ticket-key or token file it names changes, or a file appears in, changes in or leaves
 * {@code certificates.directory} or the tenants directory.
 *
 * <p>Every {@code interval} it compares each file's stamp (size, modification time, inode;
 * following symbolic links) with the last. The stamps come from a {@link FileWatch} scan: a file
 * nothing happened to since the last poll costs a look-up, not a {@code stat} (10,000 tenants name
 * ~25,000 files: stat'ing them twice a second was a fifth of a core), while symbolic links
 * (Kubernetes ConfigMaps and Secrets swap them) are stat'ed every time; with {@code
 * -Dtollgate.file-watch=false} (network file systems) every file is. Debounced: a change is acted
 * on once the files have stayed the same for one more interval, so a deploy that writes a
 * certificate and then its key reloads once, with both.
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
  private volatile Map<Path, Object> initial;

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
    Map<Path, Object> applied = initial;
    Map<Path, Object> previous = applied;
    while (!stopped) {
      try {
        Thread.sleep(interval.toMillis());
      } catch (InterruptedException e) {
        return;
      }
      Map<Path, Object> now = fingerprint();
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

  /** Every watched file with its stamp ({@link #MISSING} if it is not there). */
  Map<Path, Object> fingerprint() {
    FileWatch.Scan scan = FileWatch.shared().scan();
    Set<Path> files = files(scan);
    Map<Path, Object> out = new HashMap<>(files.size() * 4 / 3 + 1);
    for (Path p : files) {
      out.put(p, stamp(scan, p));
    }
    return out;
  }

  private Set<Path> files(FileWatch.Scan scan) {
    Set<Path> files = new HashSet<>(ConfigLoader.sourceFiles(configFile, scan));
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

  /** What a poll compares for a file that is not there. */
  static final String MISSING = "missing";

  private static Object stamp(FileWatch.Scan scan, Path p) {
    Optional<FileStamp> stamp = scan.stamp(p);
    if (stamp.isPresent()) {
      return stamp.get();
    }
    if (!scan.exists(p)) {
      return MISSING; // e.g. a route's absent .ocsp: remembered, no stat
    }
    try {
      // A directory (the tenants directory, one in certificates.directory): its time and size.
      return Files.getLastModifiedTime(p).toMillis() + "/" + Files.size(p);
    } catch (IOException e) {
      return MISSING;
    }
  }

  private static String changed(Map<Path, Object> before, Map<Path, Object> after) {
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
