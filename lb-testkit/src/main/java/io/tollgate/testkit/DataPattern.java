package io.tollgate.testkit;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Deterministic pseudo-random bytes (xorshift64*), so both ends of a transfer can compute the
 * SHA-256 of N bytes without storing them. The byte sequence for a seed does not depend on how it
 * is chunked: {@code nextBytes} calls of any sizes continue the same stream.
 */
public final class DataPattern {
  /** Seed used by {@link TlsTestServer#sha256Exchange(long)} for server-to-client data. */
  public static final long SERVER_SEED = 0x5EEDL;

  /** Seed used by {@link TlsTestClient#sha256Exchange} for client-to-server data. */
  public static final long CLIENT_SEED = 0xC11E47L;

  /** Chunk size used by the helpers that stream a pattern. */
  public static final int CHUNK = 64 * 1024;

  private long state;
  private long word;
  private int bytesLeftInWord;

  /** Bytes determined only by {@code seed} (0 is replaced: xorshift needs a non-zero state). */
  public DataPattern(long seed) {
    this.state = seed == 0 ? 0x9E3779B97F4A7C15L : seed;
  }

  /** Fills {@code buffer[offset, offset + length)} with the next bytes of the stream. */
  public void nextBytes(byte[] buffer, int offset, int length) {
    for (int i = offset; i < offset + length; i++) {
      if (bytesLeftInWord == 0) {
        word = nextWord();
        bytesLeftInWord = 8;
      }
      buffer[i] = (byte) word;
      word >>>= 8;
      bytesLeftInWord--;
    }
  }

  /** Writes the first {@code length} bytes of the pattern for {@code seed} in 64 KiB chunks. */
  public static void writeTo(OutputStream out, long seed, long length) throws IOException {
    DataPattern pattern = new DataPattern(seed);
    byte[] chunk = new byte[CHUNK];
    for (long left = length; left > 0; ) {
      int n = (int) Math.min(chunk.length, left);
      pattern.nextBytes(chunk, 0, n);
      out.write(chunk, 0, n);
      left -= n;
    }
    out.flush();
  }

  /** SHA-256 of the first {@code length} bytes of the pattern for {@code seed}. */
  public static byte[] sha256(long seed, long length) {
    MessageDigest digest = newSha256();
    try {
      writeTo(new DigestOutputStream(OutputStream.nullOutputStream(), digest), seed, length);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot happen: the null stream does not fail", e);
    }
    return digest.digest();
  }

  /** {@link #sha256(long, long)} as lower-case hex, for readable assertions. */
  public static String sha256Hex(long seed, long length) {
    return HexFormat.of().formatHex(sha256(seed, length));
  }

  static MessageDigest newSha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is mandatory in every JDK", e);
    }
  }

  private long nextWord() {
    state ^= state >>> 12;
    state ^= state << 25;
    state ^= state >>> 27;
    return state * 0x2545F4914F6CDD1DL;
  }
}
