package io.tollgate.config.bind;

import io.tollgate.config.ConfigLoader;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Resolves the file and directory paths a config names and checks that each is there to be read, so
 * a mistyped path fails {@code tollgate check} instead of the first handshake. Only existence and
 * permissions are checked here; what the files hold (PEM, matching keys, expiry) is checked by
 * lb-core when it builds the TLS material.
 *
 * <p>Relative paths are resolved against one base directory: the config file's for {@link
 * ConfigLoader#load}, the working directory for {@link ConfigLoader#parse}. Paths are kept absolute
 * and normalised, so what is logged is what is opened, whatever the process's working directory is
 * later.
 */
final class FileRefs {
  private final Path base;
  private final String baseName;

  /**
   * @param base the directory relative paths start from
   * @param baseName how messages name it: "the config file's directory"
   */
  private FileRefs(Path base, String baseName) {
    this.base = base.toAbsolutePath().normalize();
    this.baseName = baseName;
  }

  /** Relative to the directory holding {@code configFile}. */
  static FileRefs besideFile(Path configFile) {
    return new FileRefs(
        configFile.toAbsolutePath().normalize().getParent(), "the config file's directory");
  }

  /** The directory relative paths start from. */
  Path base() {
    return base;
  }

  /** Relative to the process's working directory, for config text that has no file. */
  static FileRefs workingDirectory() {
    return new FileRefs(Path.of("").toAbsolutePath(), "the working directory");
  }

  /** The file under {@code key} of {@code owner}, reporting it missing if it is not written. */
  Optional<Path> requiredFile(Node owner, Schema.Key key) {
    Node node = owner.child(key.name());
    return Readers.required(node, key) ? file(node, key) : Optional.empty();
  }

  /**
   * A key that may be left out: empty outside when it is written but unusable (reported), else the
   * readable file, or empty inside when the key is absent.
   */
  Optional<Optional<Path>> optionalFile(Node node, Schema.Key key) {
    return node.exists() ? file(node, key).map(Optional::of) : Optional.of(Optional.empty());
  }

  /** As {@link #optionalFile}, for a directory. */
  Optional<Optional<Path>> optionalDirectory(Node node, Schema.Key key) {
    return node.exists() ? directory(node, key).map(Optional::of) : Optional.of(Optional.empty());
  }

  /** A readable regular file, if the node is present. */
  Optional<Path> file(Node node, Schema.Key key) {
    Optional<Ref> ref = resolve(node, key);
    if (ref.isEmpty()) {
      return Optional.empty();
    }
    Path p = ref.get().path();
    if (!Files.exists(p)) {
      node.error("file not found: " + p + howResolved(ref.get()));
    } else if (Files.isDirectory(p)) {
      node.error("not a file: " + p + " is a directory (expected " + key.expected() + ")");
    } else if (!Files.isRegularFile(p)) {
      node.error("not a regular file: " + p + " (expected " + key.expected() + ")");
    } else if (!Files.isReadable(p)) {
      node.error("not readable: " + p + unreadableHint());
    } else {
      return Optional.of(p);
    }
    return Optional.empty();
  }

  /** A directory Tollgate may list and read, if the node is present. */
  Optional<Path> directory(Node node, Schema.Key key) {
    Optional<Ref> ref = resolve(node, key);
    if (ref.isEmpty()) {
      return Optional.empty();
    }
    Path p = ref.get().path();
    if (!Files.exists(p)) {
      node.error("directory not found: " + p + howResolved(ref.get()));
    } else if (!Files.isDirectory(p)) {
      node.error("not a directory: " + p + " (expected " + key.expected() + ")");
    } else if (!Files.isReadable(p) || !Files.isExecutable(p)) {
      node.error("not readable: " + p + unreadableHint());
    } else {
      return Optional.of(p);
    }
    return Optional.empty();
  }

  /**
   * A file Tollgate will append to (a log), if the node is present: its directory must exist and be
   * writable, and the file, if it exists, must be a writable regular file.
   */
  Optional<Path> writableFile(Node node, Schema.Key key) {
    Optional<Ref> ref = resolve(node, key);
    if (ref.isEmpty()) {
      return Optional.empty();
    }
    Path p = ref.get().path();
    Path dir = p.getParent();
    if (dir == null || !Files.isDirectory(dir)) {
      node.error("directory " + dir + " does not exist" + howResolved(ref.get()));
      return Optional.empty();
    }
    if (Files.exists(p)
        ? !Files.isRegularFile(p) || !Files.isWritable(p)
        : !Files.isWritable(dir)) {
      node.error(
          (Files.exists(p) ? p + " is not a writable file" : "cannot create files in " + dir)
              + unreadableHint());
      return Optional.empty();
    }
    return Optional.of(p);
  }

  /**
   * A directory Tollgate will create files in (ACME storage), if the node is present: an existing
   * writable directory, or a path whose parent is one (Tollgate then creates it).
   */
  Optional<Path> writableDirectory(Node node, Schema.Key key) {
    Optional<Ref> ref = resolve(node, key);
    if (ref.isEmpty()) {
      return Optional.empty();
    }
    Path p = ref.get().path();
    Path dir = Files.exists(p) ? p : p.getParent();
    if (Files.exists(p) && !Files.isDirectory(p)) {
      node.error("not a directory: " + p + " (expected " + key.expected() + ")");
    } else if (dir == null || !Files.isDirectory(dir)) {
      node.error("directory " + dir + " does not exist" + howResolved(ref.get()));
    } else if (!Files.isWritable(dir) || !Files.isExecutable(dir)) {
      node.error("cannot create files in " + dir + unreadableHint());
    } else {
      return Optional.of(p);
    }
    return Optional.empty();
  }

  /** A path as written and as resolved. */
  private record Ref(String written, Path path) {}

  private Optional<Ref> resolve(Node node, Schema.Key key) {
    Optional<String> text = Readers.string(node, key);
    if (text.isEmpty()) {
      return Optional.empty();
    }
    String written = text.get();
    if (written.isBlank()) {
      node.error("empty path (expected " + key.expected() + ")");
      return Optional.empty();
    }
    try {
      // resolve() returns an absolute argument unchanged, so only relative paths move.
      return Optional.of(new Ref(written, base.resolve(written).normalize()));
    } catch (InvalidPathException e) {
      node.error(
          node.show()
              + " is not a valid path: "
              + e.getReason()
              + " (expected "
              + key.expected()
              + ")");
      return Optional.empty();
    }
  }

  /** Says how a path that was not found came to be where it was looked for. */
  private String howResolved(Ref ref) {
    if (Path.of(ref.written()).isAbsolute()) {
      return "";
    }
    String tilde = ref.written().startsWith("~") ? "; ~ is not expanded, write the full path" : "";
    return " (\"" + ref.written() + "\" is relative to " + baseName + tilde + ")";
  }

  private static String unreadableHint() {
    return " (Tollgate runs as user "
        + System.getProperty("user.name")
        + "; check the permissions)";
  }
}
