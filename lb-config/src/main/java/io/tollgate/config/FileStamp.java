package io.tollgate.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Optional;

/**
 * What a file looked like on disk (size, modification time, inode), so a reload can take what it
 * built from the file last time instead of reading it again: 10,000 tenant files and their
 * certificates are stat'ed, not read and parsed, when they did not change.
 *
 * <p>Equal stamps mean the same bytes except in one case, which {@link #settledBefore} rules out: a
 * file written twice within one tick of the file system's clock (Linux stamps files with a coarse
 * clock, a few milliseconds) keeps its size and time. As git does for its index, a stamp whose time
 * is not clearly older than the moment the file was read is never trusted; that file is read again
 * next time, and once it has settled its stamp is trusted. A file replaced by rename, as tooling
 * should write it, also gets a new inode.
 */
public record FileStamp(long size, long modifiedNanos, Object fileKey) {
  /** How long after its last write a file's stamp is trusted; covers coarse file clocks. */
  private static final long SETTLE_NANOS = 2_000_000_000L;

  /**
   * The file's stamp, or empty when it cannot be stat'ed (missing, unreadable directory) or is not
   * a regular file (a directory named like one).
   */
  public static Optional<FileStamp> of(Path file) {
    try {
      BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
      if (!a.isRegularFile()) {
        return Optional.empty();
      }
      long nanos = a.lastModifiedTime().to(java.util.concurrent.TimeUnit.NANOSECONDS);
      return Optional.of(new FileStamp(a.size(), nanos, a.fileKey()));
    } catch (IOException | UnsupportedOperationException | SecurityException e) {
      return Optional.empty();
    }
  }

  /**
   * As {@link #of}, with the file's POSIX permissions (where the file system has them) in its key:
   * a {@code chmod} changes no size or time, and what is checked of a secret file includes who may
   * read it.
   */
  public static Optional<FileStamp> withPermissions(Path file) {
    if (!file.getFileSystem().supportedFileAttributeViews().contains("posix")) {
      return of(file);
    }
    try {
      java.nio.file.attribute.PosixFileAttributes a =
          Files.readAttributes(file, java.nio.file.attribute.PosixFileAttributes.class);
      if (!a.isRegularFile()) {
        return Optional.empty();
      }
      long nanos = a.lastModifiedTime().to(java.util.concurrent.TimeUnit.NANOSECONDS);
      return Optional.of(
          new FileStamp(a.size(), nanos, java.util.Arrays.asList(a.fileKey(), a.permissions())));
    } catch (IOException | UnsupportedOperationException | SecurityException e) {
      return Optional.empty();
    }
  }

  /** Now, on the clock files are stamped with, for {@link #settledBefore}. */
  public static long clock() {
    return System.currentTimeMillis() * 1_000_000L;
  }

  /**
   * Whether the file's last write was well before {@code readAt} ({@link #clock} taken before
   * reading it): only then does an equal stamp later prove the bytes read are still the file's.
   */
  public boolean settledBefore(long readAt) {
    return modifiedNanos < readAt - SETTLE_NANOS;
  }
}
