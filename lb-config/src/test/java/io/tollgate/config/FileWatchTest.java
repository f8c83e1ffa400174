package io.tollgate.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A scan answers as a stat would at the moment it began: a change made just before it is seen every
 * time, files nothing touched are not stat'ed again, and what the watch cannot see (symbolic links,
 * a re-pointed parent directory) is stat'ed every time.
 */
class FileWatchTest {
  @TempDir Path dir;
  private FileWatch watch;

  @BeforeEach
  void start() {
    watch = FileWatch.startNew();
    assertThat(watch.watching()).as("this machine has a file watch").isTrue();
  }

  @AfterEach
  void stop() {
    watch.close();
  }

  private static long size(FileWatch.Scan scan, Path file) {
    return scan.stamp(file).orElseThrow().size();
  }

  @Test
  void aChangeMadeJustBeforeAScanIsSeenEveryTime() throws Exception {
    Path file = dir.resolve("t.conf");
    Files.writeString(file, "x");
    assertThat(size(watch.scan(), file)).isEqualTo(1);
    // No pause anywhere: the barrier, not timing, makes the change visible. Bounded: 200 rounds.
    for (int i = 2; i < 202; i++) {
      Files.writeString(file, "x".repeat(i));
      assertThat(size(watch.scan(), file)).as("round %d", i).isEqualTo(i);
    }
  }

  @Test
  void aStatRacingAForgettingIsNeverRememberedStale() throws Exception {
    // Two loads at once (a reload and a check): one keeps stamping while the other's scans forget
    // what each write touched. After every write and a scan, the answer must be the file's.
    Path file = Files.writeString(dir.resolve("t.conf"), "x");
    java.util.concurrent.atomic.AtomicBoolean stop =
        new java.util.concurrent.atomic.AtomicBoolean();
    Thread stamper =
        new Thread(
            () -> {
              while (!stop.get()) {
                watch.scan().stamp(file);
              }
            });
    stamper.start();
    try {
      for (int i = 2; i < 302; i++) {
        Files.writeString(file, "x".repeat(i));
        assertThat(size(watch.scan(), file)).as("write %d", i).isEqualTo(i);
      }
    } finally {
      stop.set(true);
      stamper.join(10_000);
    }
  }

  @Test
  void untouchedFilesAreNotStatedAgainAndATouchedOneIs() throws Exception {
    List<Path> files = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      files.add(Files.writeString(dir.resolve("t" + i + ".conf"), "tenant " + i));
    }
    FileWatch.Scan first = watch.scan();
    files.forEach(first::stamp);
    assertThat(first.stats()).isEqualTo(50);

    FileWatch.Scan second = watch.scan();
    List<FileStamp> again = files.stream().map(f -> second.stamp(f).orElseThrow()).toList();
    assertThat(second.stats()).isZero();
    assertThat(again.get(7)).isEqualTo(FileStamp.of(files.get(7)).orElseThrow());

    Files.writeString(files.get(7), "tenant 7 changed");
    FileWatch.Scan third = watch.scan();
    assertThat(size(third, files.get(7))).isEqualTo("tenant 7 changed".length());
    files.forEach(third::stamp);
    assertThat(third.stats()).isEqualTo(1);
  }

  @Test
  void aFileReplacedByRenameOrRemovedIsSeen() throws Exception {
    Path file = Files.writeString(dir.resolve("t.conf"), "old");
    FileStamp before = watch.scan().stamp(file).orElseThrow();

    Path tmp = Files.writeString(dir.resolve("t.conf.tmp"), "new");
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    FileStamp after = watch.scan().stamp(file).orElseThrow();
    assertThat(after).isNotEqualTo(before);
    assertThat(after).isEqualTo(FileStamp.of(file).orElseThrow());

    Files.delete(file);
    assertThat(watch.scan().stamp(file)).isEmpty();
  }

  @Test
  void anAbsentFileIsRememberedAbsentUntilItIsCreated() throws Exception {
    Path ocsp = dir.resolve("cert.pem.ocsp");
    assertThat(watch.scan().isRegularFile(ocsp)).isFalse();
    FileWatch.Scan again = watch.scan();
    assertThat(again.isRegularFile(ocsp)).isFalse();
    assertThat(again.stats()).isZero();

    Files.write(ocsp, new byte[] {1, 2, 3});
    assertThat(watch.scan().isRegularFile(ocsp)).isTrue();
  }

  @Test
  void aTokenStaysCurrentUntilItsFileIsTouchedCreatedOrTheWatchLosesTrack() throws Exception {
    Path file = Files.writeString(dir.resolve("cert.pem"), "one");
    Path other = Files.writeString(dir.resolve("other.pem"), "other");
    Path absent = dir.resolve("cert.pem.ocsp");
    FileWatch.Scan first = watch.scan();
    FileWatch.Token token = first.token(file);
    FileWatch.Token otherToken = first.token(other);
    FileWatch.Token absentToken = first.token(absent);
    assertThat(List.of(token, otherToken, absentToken)).allMatch(FileWatch.Token::current);

    // Rewritten with the same length: only the notification tells.
    Files.writeString(file, "two");
    watch.scan();
    assertThat(token.current()).isFalse();
    assertThat(otherToken.current()).isTrue();
    assertThat(absentToken.current()).isTrue();

    // A file that was absent appears.
    Files.write(absent, new byte[] {1});
    watch.scan();
    assertThat(absentToken.current()).isFalse();

    // A new token after the change is current again; deleting the file ends it.
    FileWatch.Token again = watch.scan().token(file);
    assertThat(again).isNotSameAs(token);
    assertThat(again.current()).isTrue();
    Files.delete(file);
    watch.scan();
    assertThat(again.current()).isFalse();
    assertThat(otherToken.current()).isTrue();
  }

  @Test
  void aLinkHasNoTokenAndNeitherHasAnythingWithoutAWatch() throws Exception {
    Path target = Files.writeString(dir.resolve("target.pem"), "x");
    Path link = Files.createSymbolicLink(dir.resolve("link.pem"), target.getFileName());
    assertThat(watch.scan().token(link)).isNull();
    assertThat(FileWatch.off().scan().token(target)).isNull();
  }

  @Test
  void closingTheWatchEndsEveryToken() throws Exception {
    // A scan whose barrier cannot be seen trusts nothing remembered, tokens included.
    Path file = Files.writeString(dir.resolve("cert.pem"), "one");
    FileWatch.Token token = watch.scan().token(file);
    watch.close();
    watch.scan();
    assertThat(token.current()).isFalse();
  }

  private static final java.util.function.Predicate<String> CONF = n -> n.endsWith(".conf");

  private List<String> names(FileWatch.Scan scan) {
    return scan.listing(dir, CONF).stream().map(p -> p.getFileName().toString()).toList();
  }

  @Test
  void aListingIsKeptUntilANameIsAddedOrRemovedThenBroughtUpToDate() throws Exception {
    Files.writeString(dir.resolve("a.conf"), "a");
    List<Path> first = watch.scan().listing(dir, CONF);
    Files.writeString(dir.resolve("a.conf"), "a changed"); // content only: same names
    FileWatch.Scan same = watch.scan();
    assertThat(same.listing(dir, CONF)).isSameAs(first);
    assertThat(same.stats()).isZero();

    Files.writeString(dir.resolve("b.conf"), "b");
    Files.writeString(dir.resolve("notes.txt"), "not a tenant");
    assertThat(names(watch.scan())).containsExactly("a.conf", "b.conf");
    Files.delete(dir.resolve("a.conf"));
    assertThat(names(watch.scan())).containsExactly("b.conf");
  }

  @Test
  void aPatchedListingIsWhatAFreshListingSays() throws Exception {
    for (int i = 0; i < 30; i++) {
      Files.writeString(dir.resolve("t" + (100 + i) + ".conf"), "x");
    }
    watch.scan().listing(dir, CONF);
    // As sed -i and most tooling write: a temporary name, renamed over the file. Then an add, a
    // remove, a rename away and a rename in, in one go; then more names than are patched.
    for (int round = 0; round < 5; round++) {
      Path tmp = Files.writeString(dir.resolve("sedX" + round), "y" + round);
      Files.move(tmp, dir.resolve("t105.conf"), StandardCopyOption.REPLACE_EXISTING);
      Files.writeString(dir.resolve("n" + round + ".conf"), "new");
      Files.delete(dir.resolve("t" + (110 + round) + ".conf"));
      Files.move(
          dir.resolve("t" + (120 + round) + ".conf"), dir.resolve("t" + (120 + round) + ".off"));
      Files.move(dir.resolve("t" + (125 + round) + ".conf"), dir.resolve("a" + round + ".conf"));
      assertThat(names(watch.scan())).as("round %d", round).isEqualTo(fresh());
    }
    for (int i = 0; i < 100; i++) {
      Files.writeString(dir.resolve("m" + i + ".conf"), "x");
    }
    assertThat(names(watch.scan())).isEqualTo(fresh());
  }

  private List<String> fresh() {
    return FileWatch.off().scan().listing(dir, CONF).stream()
        .map(p -> p.getFileName().toString())
        .toList();
  }

  @Test
  void aSymlinkIsStatedEveryTimeSoAKubernetesStyleSwapIsSeen() throws Exception {
    // As a ConfigMap volume: t.conf -> ..data/t.conf, ..data -> a timestamped directory.
    Path v1 = Files.createDirectory(dir.resolve("..v1"));
    Files.writeString(v1.resolve("t.conf"), "one");
    Files.createSymbolicLink(dir.resolve("..data"), v1.getFileName());
    Path file = Files.createSymbolicLink(dir.resolve("t.conf"), Path.of("..data/t.conf"));
    assertThat(size(watch.scan(), file)).isEqualTo(3);

    Path v2 = Files.createDirectory(dir.resolve("..v2"));
    Files.writeString(v2.resolve("t.conf"), "two and more");
    Path next = Files.createSymbolicLink(dir.resolve("..data_tmp"), v2.getFileName());
    Files.move(next, dir.resolve("..data"), StandardCopyOption.ATOMIC_MOVE);
    FileWatch.Scan scan = watch.scan();
    assertThat(size(scan, file)).isEqualTo("two and more".length());
    assertThat(scan.stats()).as("the link is followed by a stat each time").isEqualTo(1);
  }

  @Test
  void aFileWithAHardLinkElsewhereIsStatedEveryTime() throws Exception {
    Path elsewhere = Files.createDirectory(dir.resolve("elsewhere"));
    Path watched = Files.createDirectory(dir.resolve("watched"));
    Path original = Files.writeString(elsewhere.resolve("cert.pem"), "one");
    Path file = Files.createLink(watched.resolve("cert.pem"), original);
    assertThat(size(watch.scan(), file)).isEqualTo(3);

    // Written through the other name: no notification reaches the watched directory.
    Files.writeString(original, "two and more", java.nio.file.StandardOpenOption.APPEND);
    assertThat(size(watch.scan(), file)).isEqualTo("onetwo and more".length());
  }

  @Test
  void aDirectoryReachedThroughARePointedSymlinkIsWatchedAnew() throws Exception {
    Path a = Files.createDirectory(dir.resolve("a"));
    Path b = Files.createDirectory(dir.resolve("b"));
    Files.writeString(a.resolve("t.conf"), "in a");
    Files.writeString(b.resolve("t.conf"), "in b, longer");
    Path link = Files.createSymbolicLink(dir.resolve("tenants"), a.getFileName());
    Path file = link.resolve("t.conf");
    assertThat(size(watch.scan(), file)).isEqualTo(4);
    assertThat(size(watch.scan(), file)).isEqualTo(4);

    Path tmp = Files.createSymbolicLink(dir.resolve("tenants.tmp"), b.getFileName());
    Files.move(tmp, link, StandardCopyOption.ATOMIC_MOVE);
    assertThat(size(watch.scan(), file)).isEqualTo("in b, longer".length());
  }

  @Test
  void aChmodChangesTheStampWithPermissions() throws Exception {
    Path key = Files.writeString(dir.resolve("t.key"), "secret");
    Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
    FileStamp before = watch.scan().stampWithPermissions(key).orElseThrow();
    assertThat(watch.scan().stampWithPermissions(key)).contains(before);

    Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-r--r--"));
    FileStamp after = watch.scan().stampWithPermissions(key).orElseThrow();
    assertThat(after).isNotEqualTo(before);
    assertThat(after).isEqualTo(FileStamp.withPermissions(key).orElseThrow());
  }

  @Test
  void withoutAWatchEveryAnswerIsAStat() throws Exception {
    Path file = Files.writeString(dir.resolve("t.conf"), "x");
    FileWatch.off().scan().stamp(file);
    FileWatch.Scan scan = FileWatch.off().scan();
    scan.stamp(file);
    scan.stamp(file);
    assertThat(scan.stats()).isEqualTo(2);
  }
}
