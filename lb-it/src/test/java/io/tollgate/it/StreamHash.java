package io.tollgate.it;

import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** SHA-256 and byte count of what a test reads from a stream, in one or several goes. */
final class StreamHash {
  private final MessageDigest digest;
  private final byte[] buffer = new byte[64 * 1024];
  private long bytes;

  StreamHash() throws NoSuchAlgorithmException {
    digest = MessageDigest.getInstance("SHA-256");
  }

  /** Reads until at least {@code total} bytes have been read in all, or EOF. */
  StreamHash readUntil(InputStream in, long total) throws IOException {
    while (bytes < total) {
      int n = in.read(buffer);
      if (n == -1) {
        break;
      }
      digest.update(buffer, 0, n);
      bytes += n;
    }
    return this;
  }

  StreamHash readToEof(InputStream in) throws IOException {
    return readUntil(in, Long.MAX_VALUE);
  }

  long bytes() {
    return bytes;
  }

  String sha256Hex() {
    return HexFormat.of().formatHex(digest.digest());
  }
}
