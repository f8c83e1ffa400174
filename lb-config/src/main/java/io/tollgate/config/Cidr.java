package io.tollgate.config;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.Optional;

/**
 * An IP network in CIDR notation ({@code 10.0.0.0/8}, {@code ::1/128}); a bare address is a network
 * of that one address. An IPv4 network also matches IPv4-mapped IPv6 addresses ({@code
 * ::ffff:10.1.2.3}), which dual-stack sockets may report.
 */
public record Cidr(String text, byte[] network, int prefix) {
  public Cidr {
    network = network.clone();
    if (network.length != 4 && network.length != 16) {
      throw new IllegalArgumentException("not an IP address: " + Arrays.toString(network));
    }
    if (prefix < 0 || prefix > network.length * 8) {
      throw new IllegalArgumentException("prefix out of range: " + prefix);
    }
    network = mask(network, prefix);
  }

  /**
   * Parses {@code a.b.c.d/n}, {@code v6/n} or a bare address; empty if it is not one. Only IP
   * literals: never a DNS lookup.
   */
  public static Optional<Cidr> parse(String text) {
    String s = text.trim();
    int slash = s.indexOf('/');
    String addr = slash < 0 ? s : s.substring(0, slash);
    if (addr.startsWith("[") && addr.endsWith("]")) {
      addr = addr.substring(1, addr.length() - 1);
    }
    byte[] bytes = literal(addr);
    if (bytes == null) {
      return Optional.empty();
    }
    int prefix = bytes.length * 8;
    if (slash >= 0) {
      String p = s.substring(slash + 1);
      if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(Character::isDigit)) {
        return Optional.empty();
      }
      prefix = Integer.parseInt(p);
      if (prefix > bytes.length * 8) {
        return Optional.empty();
      }
    }
    return Optional.of(new Cidr(s, bytes, prefix));
  }

  public boolean contains(InetAddress address) {
    byte[] a = address.getAddress();
    if (a.length == 16 && network.length == 4 && isV4Mapped(a)) {
      a = Arrays.copyOfRange(a, 12, 16);
    } else if (a.length == 4 && network.length == 16) {
      byte[] mapped = new byte[16];
      mapped[10] = (byte) 0xFF;
      mapped[11] = (byte) 0xFF;
      System.arraycopy(a, 0, mapped, 12, 4);
      a = mapped;
    }
    if (a.length != network.length) {
      return false;
    }
    return Arrays.equals(mask(a, prefix), network);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Cidr c && prefix == c.prefix && Arrays.equals(network, c.network);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(network) * 31 + prefix;
  }

  @Override
  public String toString() {
    return text;
  }

  private static boolean isV4Mapped(byte[] a) {
    for (int i = 0; i < 10; i++) {
      if (a[i] != 0) {
        return false;
      }
    }
    return a[10] == (byte) 0xFF && a[11] == (byte) 0xFF;
  }

  private static byte[] mask(byte[] a, int prefix) {
    byte[] out = a.clone();
    for (int i = 0; i < out.length; i++) {
      int bits = Math.max(0, Math.min(8, prefix - i * 8));
      out[i] &= (byte) (0xFF << (8 - bits));
    }
    return out;
  }

  /** The bytes of an IPv4 or IPv6 literal, or null; never resolves a name. */
  private static byte[] literal(String s) {
    if (s.isEmpty()) {
      return null;
    }
    boolean v4 = s.chars().allMatch(c -> c == '.' || Character.isDigit(c));
    if (v4) {
      String[] parts = s.split("\\.", -1);
      if (parts.length != 4) {
        return null;
      }
      byte[] out = new byte[4];
      for (int i = 0; i < 4; i++) {
        if (parts[i].isEmpty() || parts[i].length() > 3) {
          return null;
        }
        int n = Integer.parseInt(parts[i]);
        if (n > 255) {
          return null;
        }
        out[i] = (byte) n;
      }
      return out;
    }
    if (s.indexOf(':') < 0
        || !s.chars().allMatch(c -> c == ':' || c == '.' || Character.digit(c, 16) >= 0)) {
      return null; // not an IPv6 literal: InetAddress would look it up as a name
    }
    try {
      InetAddress a = InetAddress.getByName(s);
      byte[] b = a.getAddress();
      // Java turns ::ffff:a.b.c.d into an IPv4 address; a network written in IPv6 stays IPv6.
      if (a instanceof Inet4Address) {
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xFF;
        mapped[11] = (byte) 0xFF;
        System.arraycopy(b, 0, mapped, 12, 4);
        return mapped;
      }
      return b;
    } catch (UnknownHostException e) {
      return null;
    }
  }
}
