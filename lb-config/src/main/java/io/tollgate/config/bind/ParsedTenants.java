package io.tollgate.config.bind;

import com.typesafe.config.Config;
import io.tollgate.config.FileStamp;
import java.nio.file.Path;
import java.util.LinkedHashMap;
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

  private record Entry(FileStamp stamp, Config config) {}

  /** What {@link #parse} answers for a name that is not a regular file (a directory): skip it. */
  static final Object NOT_A_FILE = new Object();

  private final Path directory;
  private final Map<Path, Entry> before;
  private final Map<Path, Entry> now = new ConcurrentHashMap<>();

  private ParsedTenants(Path directory, Map<Path, Entry> before) {
    this.directory = directory;
    this.before = before;
  }

  static ParsedTenants forDirectory(Path directory) {
    Path dir = directory.toAbsolutePath().normalize();
    synchronized (LAST) {
      return new ParsedTenants(dir, LAST.getOrDefault(dir, Map.of()));
    }
  }

  /**
   * The file's parsed tree: the last load's when the file's stamp is the same, else {@code
   * parser}'s answer (a {@code Config}, or an error object that is returned as it is); {@link
   * #NOT_A_FILE} for a directory or other non-file. The one stat of the stamp is all an unchanged
   * file costs (the directory listing does not stat).
   */
  Object parse(Path file, Function<Path, Object> parser) {
    long readAt = FileStamp.clock();
    Optional<FileStamp> stamp = FileStamp.of(file);
    if (stamp.isEmpty()
        && java.nio.file.Files.exists(file)
        && !java.nio.file.Files.isRegularFile(file)) {
      return NOT_A_FILE;
    }
    Entry earlier = before.get(file);
    if (earlier != null && stamp.isPresent() && earlier.stamp().equals(stamp.get())) {
      now.put(file, earlier);
      return earlier.config();
    }
    Object parsed = parser.apply(file);
    // Kept only when the file did not change while it was read and its stamp has settled.
    if (parsed instanceof Config config
        && stamp.isPresent()
        && stamp.get().settledBefore(readAt)
        && stamp.equals(FileStamp.of(file))) {
      now.put(file, new Entry(stamp.get(), config));
    }
    return parsed;
  }

  /** Records what this load parsed as the directory's last, dropping files it did not see. */
  void keepOnlyUsed() {
    // Kept as it is, not copied: nothing is added to it after this load (10,000 entries).
    synchronized (LAST) {
      LAST.put(directory, now);
    }
  }
}
