package io.tollgate.proxyprotocol;

import io.netty.buffer.ByteBuf;
import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/**
 * Reads a PROXY protocol header (haproxy's proxy-protocol.txt, v1 and v2) at the start of a buffer.
 * Pure: never moves the buffer's indices, never throws on hostile input, and tells apart "not a
 * header at all" (plain TLS starts with 0x16; v1 with {@code "PROXY "}, v2 with a 12-byte
 * signature), "not complete yet" and "a broken header".
 */
public final class ProxyHeaderParser {
  /** Longest v1 header, CRLF included (section 2.1). */
  public static final int MAX_V1 = 107;

  /** Longest v2 header accepted (16-byte fixed part included); the format allows 65551. */
  public static final int MAX_V2 = 16 * 1024;

  private static final byte[] V1_PREFIX = "PROXY ".getBytes(StandardCharsets.US_ASCII);

  /** What {@link #parse} found. */
  public sealed interface Result {}

  /** The bytes so far could still become a header. */
  public record NeedMore() implements Result {}

  /** The first bytes cannot start a PROXY header. */
  public record NotProxy() implements Result {}

  /** The first bytes start a header ({@code version} 1 or 2) that is not complete yet. */
  public record Started(int version) implements Result {}

  /**
   * A complete header of {@code length} bytes.
   *
   * @param source the client, or null when the header says to keep the connection's own addresses
   *     (v1 UNKNOWN, v2 LOCAL, AF_UNSPEC, AF_UNIX)
   * @param destination the address the client connected to, or null with {@code source}
   */
  public record Header(
      int version,
      int length,
      boolean local,
      InetSocketAddress source,
      InetSocketAddress destination)
      implements Result {}

  /** A header that breaks the spec; {@code detail} says how. */
  public record Bad(String detail) implements Result {}

  private static final NeedMore NEED_MORE = new NeedMore();
  private static final NotProxy NOT_PROXY = new NotProxy();

  private ProxyHeaderParser() {}

  /** Which version the first bytes start, 0 for none, -1 when too few bytes to tell. */
  public static int detect(ByteBuf in) {
    int r = in.readerIndex();
    int n = in.readableBytes();
    if (n == 0) {
      return -1;
    }
    if (prefixMatches(in, r, n, V1_PREFIX)) {
      return n >= V1_PREFIX.length ? 1 : -1;
    }
    if (prefixMatches(in, r, n, ProxyHeaderEncoder.V2_SIGNATURE)) {
      return n >= ProxyHeaderEncoder.V2_SIGNATURE.length ? 2 : -1;
    }
    return 0;
  }

  private static boolean prefixMatches(ByteBuf in, int r, int n, byte[] prefix) {
    for (int i = 0; i < Math.min(n, prefix.length); i++) {
      if (in.getByte(r + i) != prefix[i]) {
        return false;
      }
    }
    return true;
  }

  public static Result parse(ByteBuf in) {
    return parse(in, detect(in));
  }

  /** {@link #parse(ByteBuf)} for a caller that has already called {@link #detect} on {@code in}. */
  static Result parse(ByteBuf in, int detected) {
    return switch (detected) {
      case -1 -> NEED_MORE;
      case 0 -> NOT_PROXY;
      case 1 -> v1(in);
      default -> v2(in);
    };
  }

  private static Result v1(ByteBuf in) {
    int r = in.readerIndex();
    int n = Math.min(in.readableBytes(), MAX_V1);
    int end = -1;
    for (int i = 0; i < n; i++) {
      byte b = in.getByte(r + i);
      if (b == '\n') {
        if (i == 0 || in.getByte(r + i - 1) != '\r') {
          return new Bad("v1 header line ends in a bare LF (expected CRLF)");
        }
        end = i - 1;
        break;
      }
      if (b == '\r') {
        // Only as the CRLF that ends the line: a lone CR would reach log lines through the detail.
        if (i + 1 < n && in.getByte(r + i + 1) != '\n') {
          return new Bad("v1 header has a CR not followed by LF");
        }
      } else if (b < 0x20 || b > 0x7E) {
        return new Bad("v1 header has a non-printable byte 0x" + Integer.toHexString(b & 0xFF));
      }
    }
    if (end < 0) {
      return in.readableBytes() >= MAX_V1
          ? new Bad("v1 header longer than " + MAX_V1 + " bytes without CRLF")
          : new Started(1);
    }
    String line = in.toString(r, end, StandardCharsets.US_ASCII);
    int length = end + 2;
    String[] f = line.split(" ", -1);
    if (f.length >= 2 && f[1].equals("UNKNOWN")) {
      return new Header(1, length, false, null, null); // rest of the line is ignored (2.1)
    }
    if (f.length != 6) {
      return new Bad("v1 header \"" + excerpt(line) + "\" does not have 6 fields");
    }
    int size;
    if (f[1].equals("TCP4")) {
      size = 4;
    } else if (f[1].equals("TCP6")) {
      size = 16;
    } else {
      return new Bad("v1 protocol \"" + excerpt(f[1]) + "\" is not TCP4, TCP6 or UNKNOWN");
    }
    InetAddress src = ip(f[2], size);
    InetAddress dst = ip(f[3], size);
    int sport = port(f[4]);
    int dport = port(f[5]);
    if (src == null || dst == null) {
      return new Bad(
          "v1 header \""
              + excerpt(line)
              + "\" has an address that is not "
              + (size == 4 ? "IPv4" : "IPv6"));
    }
    if (sport < 0 || dport < 0) {
      return new Bad("v1 header \"" + excerpt(line) + "\" has a port that is not 0..65535");
    }
    return new Header(
        1, length, false, new InetSocketAddress(src, sport), new InetSocketAddress(dst, dport));
  }

  private static InetAddress ip(String text, int size) {
    byte[] b =
        size == 4
            ? (NetUtil.isValidIpV4Address(text)
                ? NetUtil.createByteArrayFromIpAddressString(text)
                : null)
            : (NetUtil.isValidIpV6Address(text) && text.indexOf('%') < 0
                ? NetUtil.createByteArrayFromIpAddressString(text)
                : null);
    if (b == null || b.length != size) {
      return null;
    }
    return address(b);
  }

  private static int port(String text) {
    if (text.isEmpty()
        || text.length() > 5
        || !text.chars().allMatch(c -> c >= '0' && c <= '9')
        || (text.length() > 1 && text.charAt(0) == '0')) {
      return -1;
    }
    int p = Integer.parseInt(text);
    return p <= 65535 ? p : -1;
  }

  private static Result v2(ByteBuf in) {
    int r = in.readerIndex();
    if (in.readableBytes() < 16) {
      return new Started(2);
    }
    int verCmd = in.getUnsignedByte(r + 12);
    if ((verCmd >> 4) != 2) {
      return new Bad("v2 header with version " + (verCmd >> 4) + " (expected 2)");
    }
    int cmd = verCmd & 0x0F;
    if (cmd > 1) {
      return new Bad("v2 header with command " + cmd + " (expected 0 LOCAL or 1 PROXY)");
    }
    int fam = in.getUnsignedByte(r + 13);
    int length = 16 + in.getUnsignedShort(r + 14);
    if (length > MAX_V2) {
      return new Bad("v2 header of " + length + " bytes (at most " + MAX_V2 + " accepted)");
    }
    if (in.readableBytes() < length) {
      return new Started(2);
    }
    if (cmd == 0) {
      return new Header(2, length, true, null, null); // LOCAL: ignore the address block
    }
    int addresses;
    switch (fam) {
      case 0x00 -> addresses = 0;
      case 0x11, 0x12 -> addresses = 12;
      case 0x21, 0x22 -> addresses = 36;
      case 0x31, 0x32 -> addresses = 216;
      default -> {
        return new Bad("v2 header with unknown family/protocol 0x" + Integer.toHexString(fam));
      }
    }
    if (length - 16 < addresses) {
      return new Bad(
          "v2 header too short for its addresses ("
              + (length - 16)
              + " < "
              + addresses
              + " bytes)");
    }
    String tlvProblem = checkTlvs(in, r, r + 16 + addresses, r + length);
    if (tlvProblem != null) {
      return new Bad(tlvProblem);
    }
    if (addresses == 12 || addresses == 36) {
      int size = addresses == 12 ? 4 : 16;
      int a = r + 16;
      byte[] src = new byte[size];
      byte[] dst = new byte[size];
      in.getBytes(a, src);
      in.getBytes(a + size, dst);
      int sport = in.getUnsignedShort(a + 2 * size);
      int dport = in.getUnsignedShort(a + 2 * size + 2);
      return new Header(
          2,
          length,
          false,
          new InetSocketAddress(address(src), sport),
          new InetSocketAddress(address(dst), dport));
    }
    return new Header(2, length, false, null, null); // AF_UNSPEC, AF_UNIX: keep the socket's
  }

  /** Walks the TLVs; verifies PP2_TYPE_CRC32C when present (section 2.2.3). Null when fine. */
  private static String checkTlvs(ByteBuf in, int start, int from, int end) {
    int at = from;
    while (at < end) {
      if (end - at < 3) {
        return "v2 header ends inside a TLV";
      }
      int type = in.getUnsignedByte(at);
      int len = in.getUnsignedShort(at + 1);
      if (at + 3 + len > end) {
        return "v2 TLV 0x" + Integer.toHexString(type) + " runs past the header";
      }
      if (type == ProxyHeaderEncoder.PP2_TYPE_CRC32C) {
        if (len != 4) {
          return "v2 CRC32C TLV of " + len + " bytes (expected 4)";
        }
        long expected = in.getUnsignedInt(at + 3);
        byte[] copy = new byte[end - start];
        in.getBytes(start, copy);
        int v = at + 3 - start;
        copy[v] = copy[v + 1] = copy[v + 2] = copy[v + 3] = 0;
        CRC32C crc = new CRC32C();
        crc.update(copy);
        if (crc.getValue() != expected) {
          return "v2 header CRC32C mismatch";
        }
      }
      at += 3 + len;
    }
    return null;
  }

  private static InetAddress address(byte[] b) {
    try {
      return InetAddress.getByAddress(b);
    } catch (UnknownHostException e) {
      throw new IllegalStateException(e); // only for a wrong length, checked above
    }
  }

  private static String excerpt(String s) {
    return s.length() <= 60 ? s : s.substring(0, 60) + "...";
  }
}
