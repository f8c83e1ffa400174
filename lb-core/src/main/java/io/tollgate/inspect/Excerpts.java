package io.tollgate.inspect;

import io.netty.buffer.ByteBuf;

/**
 * Renders client-controlled bytes for failure details: printable ASCII as is, everything else as
 * {@code \xNN}, truncated, so that log lines cannot be forged or flooded by the client.
 */
final class Excerpts {
  static final int MAX_CHARS = 64;

  private Excerpts() {}

  static String of(byte[] bytes) {
    StringBuilder sb = new StringBuilder();
    for (byte b : bytes) {
      if (!append(sb, b & 0xff)) {
        break;
      }
    }
    return sb.toString();
  }

  static String of(ByteBuf buf, int from, int to) {
    StringBuilder sb = new StringBuilder();
    for (int i = from; i < to; i++) {
      if (!append(sb, buf.getUnsignedByte(i))) {
        break;
      }
    }
    return sb.toString();
  }

  private static boolean append(StringBuilder sb, int b) {
    if (sb.length() >= MAX_CHARS) {
      sb.append("...");
      return false;
    }
    if (b >= 0x20 && b < 0x7f && b != '\\') {
      sb.append((char) b);
    } else {
      sb.append(String.format("\\x%02x", b));
    }
    return true;
  }
}
