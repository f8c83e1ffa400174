package io.tollgate.inspect;

import io.netty.buffer.ByteBuf;

/**
 * Forward-only reader over one handshake message whose bytes are spread across the fragments of
 * several TLS records in a buffer (RFC 8446 §5.1 lets a handshake message span records). Reads by
 * absolute index, so the buffer's indices are never touched and nothing is copied except the small
 * names handed out by {@link #bytes(int)}.
 *
 * <p>Every read is checked against the current limit (initially the message end; narrowed by {@link
 * #enter} for nested length-prefixed vectors) and fails with a {@link MalformedHelloException}
 * instead of reading past it.
 */
final class HandshakeReader {
  private final ByteBuf buf;
  private final int[] fragmentStart; // absolute index of each fragment
  private final int[] fragmentEnd; // message offset (exclusive) where each fragment ends
  private int fragment;
  private int pos;
  private int limit;

  /**
   * @param fragmentStart absolute start of each fragment in {@code buf}
   * @param fragmentEnd message offset where each fragment ends; ascending, and the last one at
   *     least {@code messageLength}
   */
  HandshakeReader(ByteBuf buf, int[] fragmentStart, int[] fragmentEnd, int messageLength) {
    this.buf = buf;
    this.fragmentStart = fragmentStart;
    this.fragmentEnd = fragmentEnd;
    this.limit = messageLength;
  }

  int position() {
    return pos;
  }

  int remaining() {
    return limit - pos;
  }

  int u8(String what) {
    require(1, what);
    return byteAt(pos++);
  }

  int u16(String what) {
    require(2, what);
    int v = byteAt(pos) << 8 | byteAt(pos + 1);
    pos += 2;
    return v;
  }

  void skip(int n, String what) {
    require(n, what);
    pos += n;
  }

  byte[] bytes(int n, String what) {
    require(n, what);
    byte[] out = new byte[n];
    for (int i = 0; i < n; i++) {
      out[i] = (byte) byteAt(pos + i);
    }
    pos += n;
    return out;
  }

  /**
   * Narrows the limit to the next {@code length} bytes (a length-prefixed vector).
   *
   * @return the previous limit, to pass to {@link #exit}
   */
  int enter(int length, String what) {
    if (length > remaining()) {
      throw new MalformedHelloException(
          what + " length " + length + " exceeds the " + remaining() + " bytes left");
    }
    int saved = limit;
    limit = pos + length;
    return saved;
  }

  /**
   * As {@link #enter(int, String)} for a numbered item ("extension 43"), whose name is only put
   * together when there is an error: the parser enters every extension of every hello.
   */
  int enter(int length, String what, int number) {
    if (length > remaining()) {
      throw new MalformedHelloException(
          what
              + " "
              + number
              + " length "
              + length
              + " exceeds the "
              + remaining()
              + " bytes left");
    }
    int saved = limit;
    limit = pos + length;
    return saved;
  }

  /** Leaves a vector entered with {@link #enter}; its content must have been read exactly. */
  void exit(int savedLimit, String what) {
    if (pos != limit) {
      throw new MalformedHelloException(what + " has " + remaining() + " unparsed bytes");
    }
    limit = savedLimit;
  }

  /** As {@link #exit(int, String)} for a numbered item, see {@link #enter(int, String, int)}. */
  void exit(int savedLimit, String what, int number) {
    if (pos != limit) {
      throw new MalformedHelloException(
          what + " " + number + " has " + remaining() + " unparsed bytes");
    }
    limit = savedLimit;
  }

  private void require(int n, String what) {
    if (n < 0 || n > remaining()) {
      throw new MalformedHelloException(
          "truncated " + what + ": need " + n + " bytes, " + remaining() + " left");
    }
  }

  /** Byte at message offset {@code p}; offsets only grow, so the fragment cursor only advances. */
  private int byteAt(int p) {
    while (fragmentEnd[fragment] <= p) {
      fragment++;
    }
    int fragmentBegin = fragment == 0 ? 0 : fragmentEnd[fragment - 1];
    return buf.getUnsignedByte(fragmentStart[fragment] + p - fragmentBegin);
  }
}
