package io.tollgate.proxyprotocol;

import io.netty.util.NetUtil;
import java.io.ByteArrayOutputStream;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;
import java.util.zip.CRC32C;

/**
 * Encodes PROXY protocol headers byte for byte as haproxy's proxy-protocol.txt specifies (version
 * 1, section 2.1; version 2, section 2.2, with the TLVs of 2.2.1 to 2.2.7).
 *
 * <p>Written here rather than with Netty's {@code HAProxyMessageEncoder}, which has no CRC32C and
 * consumes its TLV buffers. Pure: addresses and TLVs in, a new byte array out; the caller wraps it
 * ({@code Unpooled.wrappedBuffer}) for each connection, so nothing needs releasing.
 *
 * <p>Addresses: both IPv4 gives TCP4; both IPv6 gives TCP6; one of each gives TCP6 with the IPv4
 * address written as IPv4-mapped IPv6 ({@code ::ffff:a.b.c.d}), as HAProxy does. Any other address
 * (not an IP socket, or missing) gives {@code PROXY UNKNOWN} in version 1 and the {@code AF_UNSPEC}
 * family in version 2, where the receiver uses the real connection's addresses.
 */
public final class ProxyHeaderEncoder {
  /** The 12-byte version 2 signature (section 2.2). */
  static final byte[] V2_SIGNATURE = {
    0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A
  };

  static final int V2_VERSION = 0x20;
  static final int CMD_LOCAL = 0x00;
  static final int CMD_PROXY = 0x01;
  static final int FAM_UNSPEC = 0x00;
  static final int FAM_TCP4 = 0x11;
  static final int FAM_TCP6 = 0x21;

  // TLV types (section 2.2).
  public static final int PP2_TYPE_ALPN = 0x01;
  public static final int PP2_TYPE_AUTHORITY = 0x02;
  public static final int PP2_TYPE_CRC32C = 0x03;
  public static final int PP2_TYPE_NOOP = 0x04;
  public static final int PP2_TYPE_UNIQUE_ID = 0x05;
  public static final int PP2_TYPE_SSL = 0x20;
  public static final int PP2_SUBTYPE_SSL_VERSION = 0x21;
  public static final int PP2_SUBTYPE_SSL_CN = 0x22;
  public static final int PP2_SUBTYPE_SSL_CIPHER = 0x23;
  public static final int PP2_SUBTYPE_SSL_SIG_ALG = 0x24;
  public static final int PP2_SUBTYPE_SSL_KEY_ALG = 0x25;
  // PP2_TYPE_SSL client flags (section 2.2.5).
  public static final int PP2_CLIENT_SSL = 0x01;
  public static final int PP2_CLIENT_CERT_CONN = 0x02;
  public static final int PP2_CLIENT_CERT_SESS = 0x04;

  /** Most bytes a PP2_TYPE_UNIQUE_ID value may have (section 2.2.6). */
  public static final int MAX_UNIQUE_ID = 128;

  /** Version 1 header for connections whose source is not known (section 2.1). */
  public static final byte[] V1_UNKNOWN = "PROXY UNKNOWN\r\n".getBytes(StandardCharsets.US_ASCII);

  /**
   * Version 2 LOCAL header: a connection the proxy opened itself (health checks); the receiver
   * keeps the connection's own addresses. Signature, 0x20 (v2, LOCAL), 0x00 (AF_UNSPEC), length 0.
   */
  public static final byte[] V2_LOCAL = v2Local();

  /** One v2 TLV: a type and its value (at most 65535 bytes). */
  public record Tlv(int type, byte[] value) {
    public Tlv {
      if (type < 0 || type > 0xFF) {
        throw new IllegalArgumentException("TLV type out of range: " + type);
      }
      Objects.requireNonNull(value, "value");
      if (value.length > 0xFFFF) {
        throw new IllegalArgumentException("TLV value too long: " + value.length);
      }
    }

    public static Tlv ascii(int type, String value) {
      return new Tlv(type, value.getBytes(StandardCharsets.US_ASCII));
    }

    int encodedLength() {
      return 3 + value.length;
    }

    void writeTo(ByteArrayOutputStream out) {
      out.write(type);
      out.write(value.length >>> 8);
      out.write(value.length);
      out.writeBytes(value);
    }
  }

  private ProxyHeaderEncoder() {}

  /**
   * A version 1 header, e.g. {@code PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n}, or {@code
   * PROXY UNKNOWN\r\n} when either address is not an IP socket address.
   */
  public static byte[] v1(SocketAddress source, SocketAddress destination) {
    Pair p = Pair.of(source, destination);
    if (p == null) {
      return V1_UNKNOWN.clone();
    }
    String header =
        "PROXY "
            + (p.v6 ? "TCP6 " : "TCP4 ")
            + text(p.src, p.v6)
            + ' '
            + text(p.dst, p.v6)
            + ' '
            + p.srcPort
            + ' '
            + p.dstPort
            + "\r\n";
    return header.getBytes(StandardCharsets.US_ASCII);
  }

  /**
   * A version 2 PROXY header with the given TLVs in the order given, plus a {@code PP2_TYPE_CRC32C}
   * TLV after them when {@code crc32c}: its value is the CRC32c (Castagnoli) of the whole header
   * computed with the value zeroed, in network byte order (section 2.2.3).
   */
  public static byte[] v2(
      SocketAddress source, SocketAddress destination, List<Tlv> tlvs, boolean crc32c) {
    Pair p = Pair.of(source, destination);
    int addressLength = p == null ? 0 : p.v6 ? 36 : 12;
    int tlvLength = crc32c ? 7 : 0;
    for (Tlv t : tlvs) {
      tlvLength += t.encodedLength();
    }
    int length = addressLength + tlvLength;
    if (length > 0xFFFF) {
      throw new IllegalArgumentException("PROXY v2 header too long: " + length);
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(16 + length);
    out.writeBytes(V2_SIGNATURE);
    out.write(V2_VERSION | CMD_PROXY);
    out.write(p == null ? FAM_UNSPEC : p.v6 ? FAM_TCP6 : FAM_TCP4);
    out.write(length >>> 8);
    out.write(length);
    if (p != null) {
      out.writeBytes(bytes(p.src, p.v6));
      out.writeBytes(bytes(p.dst, p.v6));
      out.write(p.srcPort >>> 8);
      out.write(p.srcPort);
      out.write(p.dstPort >>> 8);
      out.write(p.dstPort);
    }
    for (Tlv t : tlvs) {
      t.writeTo(out);
    }
    if (crc32c) {
      new Tlv(PP2_TYPE_CRC32C, new byte[4]).writeTo(out);
    }
    byte[] header = out.toByteArray();
    if (crc32c) {
      CRC32C crc = new CRC32C();
      crc.update(header);
      long v = crc.getValue();
      int at = header.length - 4;
      header[at] = (byte) (v >>> 24);
      header[at + 1] = (byte) (v >>> 16);
      header[at + 2] = (byte) (v >>> 8);
      header[at + 3] = (byte) v;
    }
    return header;
  }

  /** A PP2_TYPE_SSL value: client flags, verify result, then the sub-TLVs (section 2.2.5). */
  public static Tlv ssl(int client, int verify, List<Tlv> subTlvs) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(client);
    out.write(verify >>> 24);
    out.write(verify >>> 16);
    out.write(verify >>> 8);
    out.write(verify);
    for (Tlv t : subTlvs) {
      t.writeTo(out);
    }
    return new Tlv(PP2_TYPE_SSL, out.toByteArray());
  }

  private static byte[] v2Local() {
    byte[] h = new byte[16];
    System.arraycopy(V2_SIGNATURE, 0, h, 0, 12);
    h[12] = V2_VERSION | CMD_LOCAL;
    h[13] = FAM_UNSPEC;
    return h;
  }

  /** Textual address: dotted quad, or RFC 5952 IPv6 ({@code ::1}, no scope id). */
  private static String text(InetAddress a, boolean v6) {
    if (v6 && a instanceof Inet4Address) {
      return "::ffff:" + a.getHostAddress();
    }
    return NetUtil.toAddressString(a, false);
  }

  private static byte[] bytes(InetAddress a, boolean v6) {
    byte[] raw = a.getAddress();
    if (v6 && raw.length == 4) {
      byte[] mapped = new byte[16];
      mapped[10] = (byte) 0xFF;
      mapped[11] = (byte) 0xFF;
      System.arraycopy(raw, 0, mapped, 12, 4);
      return mapped;
    }
    return raw;
  }

  /** Source and destination as IP addresses of one family, or null if that cannot be. */
  private record Pair(InetAddress src, int srcPort, InetAddress dst, int dstPort, boolean v6) {
    static Pair of(SocketAddress source, SocketAddress destination) {
      if (!(source instanceof InetSocketAddress s)
          || !(destination instanceof InetSocketAddress d)
          || s.getAddress() == null
          || d.getAddress() == null) {
        return null;
      }
      boolean v6 = s.getAddress() instanceof Inet6Address || d.getAddress() instanceof Inet6Address;
      return new Pair(s.getAddress(), s.getPort(), d.getAddress(), d.getPort(), v6);
    }
  }
}
