package io.tollgate.tls;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import java.util.Set;

/**
 * Files that hold secrets (private keys, session-ticket keys, the admin token) should be readable
 * by Tollgate's user only: anyone who can read a ticket key can decrypt recorded sessions, and a
 * token opens the admin endpoint. Reading them still works; a warning at every load names the file.
 */
public final class SecretFiles {
  private SecretFiles() {}

  /**
   * The warning for {@code file} holding {@code what} (e.g. "the private key file") when group or
   * other users may read it (POSIX file systems only); empty otherwise or when unknown.
   */
  public static Optional<String> exposure(Path file, String what) {
    try {
      if (!file.getFileSystem().supportedFileAttributeViews().contains("posix")) {
        return Optional.empty();
      }
      Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(file);
      boolean others = permissions.contains(PosixFilePermission.OTHERS_READ);
      if (!others && !permissions.contains(PosixFilePermission.GROUP_READ)) {
        return Optional.empty();
      }
      return Optional.of(
          what
              + " is readable by "
              + (others ? "every user" : "its group")
              + " ("
              + PosixFilePermissions.toString(permissions)
              + "); restrict it, e.g. chmod 600 "
              + file);
    } catch (IOException | UnsupportedOperationException e) {
      // Permissions unknown: nothing to warn about; reading the file is checked elsewhere.
      return Optional.empty();
    }
  }
}
