package io.tollgate.config;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Tells a reload which files may have changed since the last one, from the kernel's notifications
 * (inotify, through the JDK's {@link WatchService}), so the stamps of files nothing touched are not
 * taken again: a reload of 10,000 tenants otherwise stats every tenant file and every certificate,
 * key and OCSP file, about 25,000 system calls and a third of its time.
 *
 * <p>A {@link Scan} answers as {@link FileStamp} would at the moment it began. It begins with a
 * barrier: it writes a file of its own into a watched directory of its own and waits until the
 * watch reports it. Notifications of one inotify instance are queued in the order things happened,
 * so by then every change made before the scan began has been reported, and the stamps it affected
 * are forgotten. Everything else falls back to a plain stat, never to a guess:
 *
 * <ul>
 *   <li>only regular files with one name are remembered (and absent ones, such as a route's missing
 *       {@code .ocsp}): a symbolic link may point into a directory nobody watches, and a hard link
 *       may be written through one, so they are stat'ed every time (Kubernetes' {@code ..data}
 *       swaps included);
 *   <li>a watched directory whose path leads to another directory than when it was watched (a
 *       parent symlink re-pointed) is forgotten and watched again;
 *   <li>an overflow, a directory removed, a barrier not reported within two seconds: what was
 *       remembered for it (or everything) is forgotten;
 *   <li>at most {@link #MAX_DIRECTORIES} directories are watched (files elsewhere are stat'ed);
 *   <li>{@code -Dtollgate.file-watch=false}, or a system without a watch service: every answer is a
 *       stat, as before.
 * </ul>
 *
 * <p>What a file system does not report it cannot know: NFS and other network mounts see only local
 * writes (turn the watch off there), a file written through a hard link made after it was
 * remembered, a same-device bind mount of a single file. Files on another device than their
 * directory (a bind-mounted file, as {@code docker -v file:file} makes) are stat'ed every time.
 */
public final class FileWatch {
  /** Directories watched at most; one per tenant would exhaust the user's inotify watches. */
  static final int MAX_DIRECTORIES = 1024;

  private static final long BARRIER_NANOS = TimeUnit.SECONDS.toNanos(2);

  /** Names reported in a directory up to which its listing is patched rather than read again. */
  private static final int MAX_PATCHED_NAMES = 64;

  private static final String UNIX_ATTRIBUTES =
      "unix:isRegularFile,nlink,dev,size,lastModifiedTime,fileKey,permissions";

  private static volatile FileWatch shared;

  /** A watch that remembers nothing: every answer is a stat. */
  private static final FileWatch OFF = new FileWatch(null, null);

  private final WatchService service;
  private final Path barrierDir;
  private final WatchKey barrierKey;
  private final Map<Path, Dir> dirs = new ConcurrentHashMap<>();
  private final Map<WatchKey, Dir> byKey = new ConcurrentHashMap<>();

  /**
   * By path as asked; what a stat said, while nothing was reported for the name. One map for all
   * directories: a remembered file costs one look-up with the caller's own path (hash kept).
   */
  private final Map<Path, Attrs> files = new ConcurrentHashMap<>();

  private final Object registering = new Object();
  private long barriers;
  private boolean barrierOverflowed;
  private final boolean posix =
      FileSystems.getDefault().supportedFileAttributeViews().contains("unix");

  private FileWatch(WatchService service, Path barrierDir) {
    this.service = service;
    this.barrierDir = barrierDir;
    WatchKey key = null;
    if (service != null) {
      try {
        key = barrierDir.register(service, StandardWatchEventKinds.ENTRY_CREATE);
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }
    this.barrierKey = key;
  }

  /** The process's watch (made at first use); {@link #off} when it cannot or must not watch. */
  public static FileWatch shared() {
    FileWatch w = shared;
    if (w == null) {
      synchronized (FileWatch.class) {
        w = shared;
        if (w == null) {
          w = start();
          shared = w;
        }
      }
    }
    return w;
  }

  /** A watch that remembers nothing: every answer of its scans is a stat. */
  public static FileWatch off() {
    return OFF;
  }

  /** A watch of its own (tests); close it with {@link #close}. */
  static FileWatch startNew() {
    return start();
  }

  private static FileWatch start() {
    if (!Boolean.parseBoolean(System.getProperty("tollgate.file-watch", "true"))) {
      return OFF;
    }
    try {
      Path dir = Files.createTempDirectory("tollgate-watch-");
      dir.toFile().deleteOnExit();
      return new FileWatch(FileSystems.getDefault().newWatchService(), dir);
    } catch (IOException | UnsupportedOperationException | java.io.UncheckedIOException e) {
      return OFF; // describe() says so
    }
  }

  /** Stops watching (tests). */
  void close() {
    if (service != null) {
      try {
        service.close();
        Files.deleteIfExists(barrierDir);
      } catch (IOException e) {
        // a temporary directory left behind
      }
    }
  }

  /** Whether scans may answer from memory (tests). */
  boolean watching() {
    return service != null;
  }

  /** For the start-up log: whether reloads skip files the watch saw untouched. */
  public String describe() {
    return service != null
        ? "reloads stat only files changed since the last one (file watch)"
        : "reloads stat every file (no file watch"
            + (Boolean.parseBoolean(System.getProperty("tollgate.file-watch", "true"))
                ? ")"
                : ": -Dtollgate.file-watch=false)");
  }

  /**
   * A scan that answers as of now: every change made before this call is taken into account. Blocks
   * until the watch reported its barrier (microseconds; at most two seconds, after which nothing
   * remembered is trusted).
   */
  public synchronized Scan scan() {
    if (service == null) {
      return new Scan(false);
    }
    if (!barrier()) {
      forgetAll();
    }
    // A directory reached through a re-pointed symlink is another directory: watch it anew.
    for (Dir d : dirs.values()) {
      Object now = directoryKey(d.path);
      if (now == null || !now.equals(d.fileKey)) {
        drop(d);
      }
    }
    return new Scan(true);
  }

  private boolean barrier() {
    String name = "b" + (++barriers);
    Path file = barrierDir.resolve(name);
    try {
      Files.createFile(file);
    } catch (IOException e) {
      return false;
    }
    try {
      long deadline = System.nanoTime() + BARRIER_NANOS;
      boolean seen = false;
      while (!seen) {
        long left = deadline - System.nanoTime();
        WatchKey key = left <= 0 ? null : service.poll(left, TimeUnit.NANOSECONDS);
        if (key == null) {
          return false; // not reported in time: this scan trusts nothing remembered
        }
        seen = handle(key, name);
      }
      // The barrier is reported after every earlier change, each to its directory's key, which
      // was queued then: take what is queued.
      WatchKey key;
      while ((key = service.poll()) != null) {
        handle(key, null);
      }
      // An overflow is signalled to every key in turn, the barrier's first: the others may not
      // have theirs yet, so this scan trusts nothing remembered.
      boolean lost = barrierOverflowed;
      barrierOverflowed = false;
      return !lost;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } catch (ClosedWatchServiceException e) {
      return false;
    } finally {
      try {
        Files.deleteIfExists(file);
      } catch (IOException e) {
        // a few bytes of temporary directory
      }
    }
  }

  /** Forgets what {@code key}'s events touched; true when one of them is the barrier named. */
  private boolean handle(WatchKey key, String barrier) {
    boolean seen = false;
    List<WatchEvent<?>> events = key.pollEvents();
    if (key == barrierKey) {
      for (WatchEvent<?> e : events) {
        if (e.kind() == StandardWatchEventKinds.OVERFLOW) {
          barrierOverflowed = true;
          seen = true;
        } else if (barrier != null && barrier.equals(String.valueOf(e.context()))) {
          seen = true;
        }
      }
      key.reset();
      return seen;
    }
    Dir d = byKey.get(key);
    if (d == null) {
      // Registered a moment ago by a scan that has not recorded it yet (its files are stat'ed
      // after that), or dropped: nothing remembered to forget.
      key.reset();
      return false;
    }
    synchronized (d) {
      d.epoch++;
      for (WatchEvent<?> e : events) {
        if (e.kind() == StandardWatchEventKinds.OVERFLOW || !(e.context() instanceof Path name)) {
          forget(d);
          continue;
        }
        Path file = d.path.resolve(name);
        Attrs.forget(files.remove(file));
        d.names.remove(file);
        if (e.kind() != StandardWatchEventKinds.ENTRY_MODIFY && d.listing != null) {
          d.touched.add(name.toString());
        }
      }
    }
    if (!key.reset()) {
      drop(d); // the directory went away
    }
    return false;
  }

  private void forgetAll() {
    for (Dir d : dirs.values()) {
      synchronized (d) {
        d.epoch++;
        forget(d);
      }
    }
  }

  /** Forgets what is remembered of {@code d}'s files; called holding {@code d}'s lock. */
  private void forget(Dir d) {
    for (Path file : d.names) {
      Attrs.forget(files.remove(file));
    }
    d.names.clear();
    d.listing = null;
    d.touched.clear();
  }

  private void drop(Dir d) {
    // Under the registration lock: a registration of the same path meanwhile would get this very
    // key back from the JDK, which the cancel below would then silence.
    synchronized (registering) {
      d.dropped = true;
      synchronized (d) {
        d.epoch++;
        forget(d);
      }
      dirs.remove(d.path, d);
      byKey.remove(d.key, d);
      d.key.cancel();
    }
  }

  /** The directory's watch, registered now if need be; null when it cannot be watched. */
  private Dir dir(Path dir) {
    Dir d = dirs.get(dir);
    if (d != null) {
      return d;
    }
    synchronized (registering) {
      d = dirs.get(dir);
      if (d != null || dirs.size() >= MAX_DIRECTORIES) {
        return d;
      }
      Object fileKey = directoryKey(dir);
      if (fileKey == null) {
        return null;
      }
      try {
        WatchKey key =
            dir.register(
                service,
                StandardWatchEventKinds.ENTRY_CREATE,
                StandardWatchEventKinds.ENTRY_DELETE,
                StandardWatchEventKinds.ENTRY_MODIFY);
        if (byKey.containsKey(key) || !key.isValid()) {
          return null; // the same directory under another path: one watch, one owner
        }
        // What the path leads to after registering: if it moved meanwhile, do not trust it.
        if (!fileKey.equals(directoryKey(dir))) {
          key.cancel();
          return null;
        }
        d = new Dir(dir, key, fileKey, device(dir));
        byKey.put(key, d);
        dirs.put(dir, d);
        return d;
      } catch (IOException | ClosedWatchServiceException | UnsupportedOperationException e) {
        return null;
      }
    }
  }

  /** {@code dir}'s names passing {@code filter}, sorted; null when it cannot be read. */
  private static Listing list(Path dir, java.util.function.Predicate<String> filter) {
    List<String> names = new java.util.ArrayList<>();
    try (java.nio.file.DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
      for (Path entry : entries) {
        String name = entry.getFileName().toString();
        if (filter.test(name)) {
          names.add(name);
        }
      }
    } catch (IOException | java.nio.file.DirectoryIteratorException e) {
      return null;
    }
    names.sort(null);
    List<Path> paths = new java.util.ArrayList<>(names.size());
    for (String name : names) {
      paths.add(dir.resolve(name));
    }
    return new Listing(filter, List.copyOf(names), List.copyOf(paths));
  }

  /** The device of {@code dir} (following links), or null where the unix view is missing. */
  private Object device(Path dir) {
    try {
      return posix ? Files.getAttribute(dir, "unix:dev") : null;
    } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
      return null;
    }
  }

  private static Object directoryKey(Path dir) {
    try {
      BasicFileAttributes a = Files.readAttributes(dir, BasicFileAttributes.class);
      return a.isDirectory() ? a.fileKey() : null;
    } catch (IOException | SecurityException e) {
      return null;
    }
  }

  /** One watched directory and what is remembered of its files. */
  private static final class Dir {
    final Path path;
    final WatchKey key;
    final Object fileKey;

    /** The directory's device: a file on another one is a mount (a bind-mounted file). */
    final Object dev;

    /** Dropped: what a query remembers through it is taken back. */
    volatile boolean dropped;

    /** Its files remembered in {@link FileWatch#files}. */
    final java.util.Set<Path> names = ConcurrentHashMap.newKeySet();

    /** The last listing (sorted by name), and the names added or removed since. */
    Listing listing;

    final java.util.Set<String> touched = new java.util.HashSet<>();

    /**
     * Counts forgettings (written holding the directory's lock, read without it): a stat taken
     * before one is not remembered after it.
     */
    volatile long epoch;

    Dir(Path path, WatchKey key, Object fileKey, Object dev) {
      this.path = path;
      this.key = key;
      this.fileKey = fileKey;
      this.dev = dev;
    }
  }

  /** A directory's names that pass a filter, sorted, and their paths. */
  private record Listing(
      java.util.function.Predicate<String> filter, List<String> names, List<Path> paths) {}

  /**
   * What a scan said of a file, for as long as the watch has seen nothing happen to it: {@link
   * #current} turns false for good once a notification names the file (or its directory's watch is
   * dropped, or the watch lost events). Checked after a later {@link #scan}, it answers as of that
   * scan, as the scan's own stamps would, without looking the path up: what a reload of ten
   * thousand certificates asks of each.
   */
  public interface Token {
    boolean current();
  }

  /**
   * What one stat (not following links) said of a regular file, or that there was none; one object
   * per path and stat, so that it can be the path's {@link Token}.
   */
  private static final class Attrs implements Token {
    /** A link or another non-file: remembered only as such, and stat'ed (following) each time. */
    static final Attrs ASK_EACH_TIME = new Attrs(null, null);

    private final FileStamp plain;
    private final FileStamp withPermissions;
    private volatile boolean forgotten;

    Attrs(FileStamp plain, FileStamp withPermissions) {
      this.plain = plain;
      this.withPermissions = withPermissions;
    }

    /** No file at the path (each absent path its own object: its creation forgets it). */
    static Attrs absent() {
      return new Attrs(null, null);
    }

    boolean isAbsent() {
      return plain == null && this != ASK_EACH_TIME;
    }

    FileStamp plain() {
      return plain;
    }

    FileStamp withPermissions() {
      return withPermissions;
    }

    /** No longer what the watch remembers of its path. */
    static void forget(Attrs a) {
      if (a != null && a != ASK_EACH_TIME) {
        a.forgotten = true;
      }
    }

    @Override
    public boolean current() {
      return !forgotten;
    }
  }

  /** Answers about files as of the moment it began; see {@link FileWatch}. */
  public final class Scan {
    private final boolean remembers;
    private final AtomicInteger stats = new AtomicInteger();

    private Scan(boolean remembers) {
      this.remembers = remembers;
    }

    /** As {@link FileStamp#of}. */
    public Optional<FileStamp> stamp(Path file) {
      return stamp(file, Attrs::plain, FileStamp::of);
    }

    /** As {@link FileStamp#withPermissions}. */
    public Optional<FileStamp> stampWithPermissions(Path file) {
      return stamp(file, Attrs::withPermissions, FileStamp::withPermissions);
    }

    private Optional<FileStamp> stamp(
        Path file,
        java.util.function.Function<Attrs, FileStamp> remembered,
        java.util.function.Function<Path, Optional<FileStamp>> stat) {
      Attrs a = attrs(file);
      if (a == null) {
        stats.incrementAndGet();
        return stat.apply(file);
      }
      return Optional.ofNullable(remembered.apply(a));
    }

    /**
     * What this scan knows of {@code file} as a {@link Token}: current until the watch sees the
     * file change; null when the file is not remembered (links, other devices, no watch), which a
     * caller must then stat every time.
     */
    public Token token(Path file) {
      return attrs(file);
    }

    /** As {@link Files#exists} (following links). */
    public boolean exists(Path file) {
      Attrs a = attrs(file);
      if (a == null) {
        stats.incrementAndGet();
        return Files.exists(file);
      }
      return !a.isAbsent();
    }

    /** As {@link Files#isRegularFile}. */
    public boolean isRegularFile(Path file) {
      Attrs a = attrs(file);
      if (a == null) {
        stats.incrementAndGet();
        return Files.isRegularFile(file);
      }
      return a.plain() != null;
    }

    /**
     * The entries of {@code dir} whose names pass {@code filter} (not stat'ed: a directory named
     * like one is listed), sorted by name; empty when it cannot be read. Remembered while nothing
     * is created, removed or renamed in it, and then brought up to date from the names reported
     * (each looked at again) rather than listed anew.
     */
    public List<Path> listing(Path dir, java.util.function.Predicate<String> filter) {
      Dir d = remembers ? dir(dir) : null;
      if (d == null) {
        Listing fresh = list(dir, filter);
        return fresh == null ? List.of() : fresh.paths();
      }
      synchronized (d) {
        Listing known = d.listing;
        if (known != null && known.filter() == filter) {
          if (d.touched.isEmpty()) {
            return known.paths();
          }
          if (d.touched.size() <= MAX_PATCHED_NAMES) {
            d.listing = patch(d.path, known, d.touched);
            d.touched.clear();
            return d.listing.paths();
          }
        }
        // Everything reported from here on is news to this listing; the barrier was before it.
        d.touched.clear();
        Listing fresh = list(dir, filter);
        d.listing = fresh;
        return fresh == null ? List.of() : fresh.paths();
      }
    }

    private Listing patch(Path dir, Listing known, java.util.Set<String> touched) {
      List<String> names = new java.util.ArrayList<>(known.names());
      List<Path> paths = new java.util.ArrayList<>(known.paths());
      for (String name : touched) {
        if (!known.filter().test(name)) {
          continue;
        }
        int at = java.util.Collections.binarySearch(names, name);
        Path path = dir.resolve(name);
        stats.incrementAndGet();
        boolean there = Files.exists(path, LinkOption.NOFOLLOW_LINKS);
        if (there && at < 0) {
          names.add(-at - 1, name);
          paths.add(-at - 1, path);
        } else if (!there && at >= 0) {
          names.remove(at);
          paths.remove(at);
        }
      }
      return new Listing(known.filter(), List.copyOf(names), List.copyOf(paths));
    }

    /** Stats this scan took (tests). */
    int stats() {
      return stats.get();
    }

    /** Remembered or taken now and remembered; null when this file cannot be remembered. */
    private Attrs attrs(Path file) {
      if (!remembers) {
        return null;
      }
      Attrs known = files.get(file);
      if (known != null) {
        return known == Attrs.ASK_EACH_TIME ? null : known;
      }
      Path parent = file.getParent();
      Dir d = parent == null ? null : dir(parent);
      if (d == null) {
        return null;
      }
      long epoch = d.epoch;
      stats.incrementAndGet();
      Attrs now = statNoFollow(file, d.dev);
      if (now == null) {
        return null; // could not tell: nothing remembered
      }
      // The stat without the lock (10,000 files from two threads at the first load), recording
      // it under the lock, which every forgetting holds after moving the epoch on: one that came
      // after the epoch read above shows in it, and this stat is not remembered; one that comes
      // later finds the name and the entry. (Recorded without the lock, a name added while a
      // forgetting walked the names could be cleared with its entry left behind, and that entry
      // would then outlive every later overflow.) A stat another thread remembered first wins:
      // a token nothing can forget must never be handed out.
      synchronized (d) {
        if (d.epoch != epoch || d.dropped) {
          Attrs.forget(now);
        } else if (files.putIfAbsent(file, now) != null) {
          Attrs.forget(now);
        } else {
          d.names.add(file);
        }
      }
      return now == Attrs.ASK_EACH_TIME ? null : now;
    }

    private Attrs statNoFollow(Path file, Object dev) {
      try {
        if (!posix) {
          BasicFileAttributes a =
              Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
          if (!a.isRegularFile()) {
            return Attrs.ASK_EACH_TIME;
          }
          FileStamp plain =
              new FileStamp(a.size(), a.lastModifiedTime().to(TimeUnit.NANOSECONDS), a.fileKey());
          return new Attrs(plain, plain);
        }
        // One lstat, with the link count: a file with another name (a hard link) can be written
        // through a directory nobody watches.
        Map<String, Object> a =
            Files.readAttributes(file, UNIX_ATTRIBUTES, LinkOption.NOFOLLOW_LINKS);
        if (!Boolean.TRUE.equals(a.get("isRegularFile"))
            || !Integer.valueOf(1).equals(a.get("nlink"))
            || dev == null
            || !dev.equals(a.get("dev"))) {
          // A link may point into a directory nobody watches; a file on another device than its
          // directory is mounted there (docker -v file:file), and written where nobody watches;
          // a directory named like a file is the caller's to report.
          return Attrs.ASK_EACH_TIME;
        }
        long size = (Long) a.get("size");
        long nanos = ((FileTime) a.get("lastModifiedTime")).to(TimeUnit.NANOSECONDS);
        Object fileKey = a.get("fileKey");
        // Equal to FileStamp.of and FileStamp.withPermissions of the same file.
        return new Attrs(
            new FileStamp(size, nanos, fileKey),
            new FileStamp(size, nanos, java.util.Arrays.asList(fileKey, a.get("permissions"))));
      } catch (NoSuchFileException e) {
        return Attrs.absent();
      } catch (IOException
          | UnsupportedOperationException
          | IllegalArgumentException
          | ClassCastException
          | SecurityException e) {
        return null;
      }
    }
  }
}
