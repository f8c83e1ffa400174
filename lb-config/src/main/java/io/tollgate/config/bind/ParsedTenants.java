package io.tollgate.config.bind;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValue;
import io.tollgate.config.FileStamp;
import io.tollgate.config.FileWatch;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * The tenant files of a directory as the last load parsed them, keyed by their {@link FileStamp}: a
 * reload parses only the files that changed, and hands the binders the very same {@code Config}
 * objects for the others, which lets {@link BindMemo} take their bound routes and pools over as
 * well. Parsed trees are immutable, so sharing them between loads (and threads) is safe; a file
 * that failed to parse is not kept, so its error is reported again.
 *
 * <p>What the last load of each directory parsed is kept (the few most recently loaded
 * directories), and a load keeps only the files it saw, so a removed tenant's tree is dropped.
 */
final class ParsedTenants {
  private static final int DIRECTORIES = 8;

  private static final Map<Path, Map<Path, Entry>> LAST =
      new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Path, Map<Path, Entry>> eldest) {
          return size() > DIRECTORIES;
        }
      };

  /**
   * A file's parse and, once the splice took them, its routes and pools. {@link #parse} hands it
   * back as it is, so the splice finds the parts without looking the file up again.
   */
  static final class Entry {
    final FileStamp stamp;
    final Config config;
    volatile Parts parts;

    Entry(FileStamp stamp, Config config) {
      this.stamp = stamp;
      this.config = config;
    }
  }

  /** A tenant file's routes and its pools (name, value), in the file's order. */
  record Parts(List<ConfigValue> routes, List<Map.Entry<String, ConfigValue>> pools) {}

  /** What {@link #parse} answers for a name that is not a regular file (a directory): skip it. */
  static final Object NOT_A_FILE = new Object();

  private final Path directory;
  private final Map<Path, Entry> before;
  private final Map<Path, Entry> now;
  private final FileWatch.Scan files;

  private ParsedTenants(Path directory, Map<Path, Entry> before, FileWatch.Scan files) {
    this.directory = directory;
    this.before = before;
    this.files = files;
    // Sized as the last load's (10,000 files): the parallel parse otherwise grows it from 16.
    this.now = new ConcurrentHashMap<>(Math.max(16, before.size() + before.size() / 8));
  }

  /** What the last load parsed in {@code directory}; stamps are taken through {@code files}. */
  static ParsedTenants forDirectory(Path directory, FileWatch.Scan files) {
    Path dir = directory.toAbsolutePath().normalize();
    synchronized (LAST) {
      return new ParsedTenants(dir, LAST.getOrDefault(dir, Map.of()), files);
    }
  }

  /**
   * The file's parsed tree as an {@link Entry}: the last load's when the file's stamp is the same,
   * else a new one holding {@code parser}'s {@code Config}; the {@code Config} itself when the file
   * changed while it was read (it is not kept), an error object from {@code parser} as it is;
   * {@link #NOT_A_FILE} for a directory or other non-file. The one stat of the stamp is all an
   * unchanged file costs (the directory listing does not stat), and not even that when the file
   * watch saw nothing happen to it ({@link FileWatch}). The stamp that proves a file did not change
   * while it was parsed is a stat of its own.
   */
  Object parse(Path file, Function<Path, Object> parser) {
    return parse(file, parser, -1);
  }

  /**
   * As {@link #parse(Path, Function)}; with {@code asChanged >= 0} (a reload rehearsal), the last
   * load's stamp is compared with one unlike the file's own, so the file is parsed again as after a
   * change. Which of the stamp's parts differs goes round with {@code asChanged} (size, time,
   * inode), and every other time the file counts as written just now (not settled, so its parse is
   * not kept): a real change then takes paths the compiled code has seen taken. Not trained, the
   * first failing comparison after a start made the JVM drop the compiled parse step and run the
   * rest of that reload's 10,000 files interpreted (~15 ms of its config time).
   */
  Object parse(Path file, Function<Path, Object> parser, int asChanged) {
    long readAt = FileStamp.clock();
    Optional<FileStamp> stamp = files.stamp(file);
    if (stamp.isEmpty()
        && java.nio.file.Files.exists(file)
        && !java.nio.file.Files.isRegularFile(file)) {
      return NOT_A_FILE;
    }
    Entry earlier = before.get(file);
    Optional<FileStamp> compared =
        asChanged < 0 || stamp.isEmpty()
            ? stamp
            : Optional.of(unlike(file, stamp.get(), asChanged));
    if (earlier != null && compared.isPresent() && earlier.stamp.equals(compared.get())) {
      now.put(file, earlier);
      return earlier;
    }
    Object parsed = parser.apply(file);
    // Every other rehearsed change is one written just now, which is not kept: the path of the
    // file a real reload most often meets (an editor or tool wrote it a moment ago).
    boolean justWritten = asChanged >= 0 && (asChanged / 3) % 2 == 1;
    // Kept only when the file did not change while it was read and its stamp has settled.
    if (parsed instanceof Config config
        && stamp.isPresent()
        && stamp.get().settledBefore(justWritten ? stamp.get().modifiedNanos() : readAt)
        && stamp.equals(FileStamp.of(file))) {
      Entry kept = new Entry(stamp.get(), config);
      now.put(file, kept);
      return kept;
    }
    return parsed;
  }

  /** {@code stamp} with its size, time or file key (its directory's) changed, by {@code which}. */
  private static FileStamp unlike(Path file, FileStamp stamp, int which) {
    return switch (which % 3) {
      case 0 -> new FileStamp(stamp.size() + 1, stamp.modifiedNanos(), stamp.fileKey());
      case 1 -> new FileStamp(stamp.size(), stamp.modifiedNanos() + 1, stamp.fileKey());
      default -> {
        Object otherKey;
        try {
          otherKey =
              java.nio.file.Files.readAttributes(
                      file.toAbsolutePath().getParent(),
                      java.nio.file.attribute.BasicFileAttributes.class)
                  .fileKey();
        } catch (java.io.IOException e) {
          otherKey = null;
        }
        yield new FileStamp(stamp.size(), stamp.modifiedNanos(), otherKey);
      }
    };
  }

  /** Records what this load parsed as the directory's last, dropping files it did not see. */
  void keepOnlyUsed() {
    // Kept as it is, not copied: nothing is added to it after this load (10,000 entries).
    synchronized (LAST) {
      LAST.put(directory, now);
    }
  }
}
