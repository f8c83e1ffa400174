package io.tollgate.route;

import io.tollgate.config.AccessRules;
import io.tollgate.config.Cidr;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code allow-from} / {@code deny-from} compiled once, at config load, into masks: checking a
 * client is a few integer compares per network and allocates nothing for IPv4 clients. Deny wins; a
 * non-empty allow list admits only its networks. IPv4 networks also match IPv4-mapped IPv6 clients
 * and an IPv6 network that covers part of {@code ::ffff:0:0/96} matches the IPv4 clients in it, as
 * {@link Cidr#contains} does.
 */
public final class SourceFilter {
  private final Networks allow;
  private final Networks deny;

  private SourceFilter(Networks allow, Networks deny) {
    this.allow = allow;
    this.deny = deny;
  }

  /** The compiled rules, or null when there are none (nothing to check on the data path). */
  public static SourceFilter of(AccessRules rules) {
    if (rules.isEmpty()) {
      return null;
    }
    return new SourceFilter(
        rules.allowFrom().isEmpty() ? null : Networks.of(rules.allowFrom()),
        Networks.of(rules.denyFrom()));
  }

  /**
   * Whether {@code client} may connect; a client that is not an IP socket address (never on a TCP
   * listener) is refused when there is an allow list.
   */
  public boolean admits(SocketAddress client) {
    InetAddress ip = client instanceof InetSocketAddress a ? a.getAddress() : null;
    if (ip == null) {
      return allow == null;
    }
    if (ip instanceof Inet4Address) {
      // Inet4Address.hashCode() is its address as a big-endian int: no byte[] copy per check
      // (SourceFilterTest pins this down).
      int v4 = ip.hashCode();
      return !deny.containsV4(v4) && (allow == null || allow.containsV4(v4));
    }
    byte[] b = ip.getAddress();
    if (isV4Mapped(b)) {
      int v4 = (b[12] & 0xFF) << 24 | (b[13] & 0xFF) << 16 | (b[14] & 0xFF) << 8 | (b[15] & 0xFF);
      return !deny.containsV4(v4) && (allow == null || allow.containsV4(v4));
    }
    long hi = longAt(b, 0);
    long lo = longAt(b, 8);
    return !deny.containsV6(hi, lo) && (allow == null || allow.containsV6(hi, lo));
  }

  /** One list of networks as masks: IPv4 ones as ints, IPv6 ones as two longs. */
  private static final class Networks {
    private final int[] v4Net;
    private final int[] v4Mask;
    private final long[] v6Hi;
    private final long[] v6Lo;
    private final long[] v6MaskHi;
    private final long[] v6MaskLo;

    private Networks(List<int[]> v4, List<long[]> v6) {
      v4Net = new int[v4.size()];
      v4Mask = new int[v4.size()];
      for (int i = 0; i < v4.size(); i++) {
        v4Net[i] = v4.get(i)[0];
        v4Mask[i] = v4.get(i)[1];
      }
      v6Hi = new long[v6.size()];
      v6Lo = new long[v6.size()];
      v6MaskHi = new long[v6.size()];
      v6MaskLo = new long[v6.size()];
      for (int i = 0; i < v6.size(); i++) {
        v6Hi[i] = v6.get(i)[0];
        v6Lo[i] = v6.get(i)[1];
        v6MaskHi[i] = v6.get(i)[2];
        v6MaskLo[i] = v6.get(i)[3];
      }
    }

    static Networks of(List<Cidr> cidrs) {
      List<int[]> v4 = new ArrayList<>();
      List<long[]> v6 = new ArrayList<>();
      for (Cidr c : cidrs) {
        byte[] n = c.network();
        if (n.length == 4) {
          v4.add(new int[] {intAt(n, 0), v4Mask(c.prefix())});
          continue;
        }
        long maskHi = v6Mask(c.prefix());
        long maskLo = v6Mask(c.prefix() - 64);
        long hi = longAt(n, 0);
        long lo = longAt(n, 8);
        v6.add(new long[] {hi, lo, maskHi, maskLo});
        // The part of ::ffff:0:0/96 this network covers, as an IPv4 network.
        long mappedHi = 0;
        long mappedLo = 0xFFFF_0000_0000L;
        if (c.prefix() <= 96) {
          if ((mappedHi & maskHi) == hi && (mappedLo & maskLo) == lo) {
            v4.add(new int[] {0, 0});
          }
        } else if (hi == mappedHi && (lo >>> 32) == 0xFFFFL) {
          v4.add(new int[] {(int) lo & v4Mask(c.prefix() - 96), v4Mask(c.prefix() - 96)});
        }
      }
      return new Networks(v4, v6);
    }

    boolean containsV4(int a) {
      for (int i = 0; i < v4Net.length; i++) {
        if ((a & v4Mask[i]) == v4Net[i]) {
          return true;
        }
      }
      return false;
    }

    boolean containsV6(long hi, long lo) {
      for (int i = 0; i < v6Hi.length; i++) {
        if ((hi & v6MaskHi[i]) == v6Hi[i] && (lo & v6MaskLo[i]) == v6Lo[i]) {
          return true;
        }
      }
      return false;
    }
  }

  private static int v4Mask(int prefix) {
    return prefix <= 0 ? 0 : -1 << (32 - prefix);
  }

  /** The mask of a 64-bit half that has {@code bits} prefix bits (clamped to 0..64). */
  private static long v6Mask(int bits) {
    if (bits <= 0) {
      return 0;
    }
    return bits >= 64 ? -1L : -1L << (64 - bits);
  }

  private static boolean isV4Mapped(byte[] b) {
    for (int i = 0; i < 10; i++) {
      if (b[i] != 0) {
        return false;
      }
    }
    return b[10] == (byte) 0xFF && b[11] == (byte) 0xFF;
  }

  private static int intAt(byte[] b, int off) {
    return (b[off] & 0xFF) << 24
        | (b[off + 1] & 0xFF) << 16
        | (b[off + 2] & 0xFF) << 8
        | (b[off + 3] & 0xFF);
  }

  private static long longAt(byte[] b, int off) {
    return ((long) intAt(b, off) << 32) | (intAt(b, off + 4) & 0xFFFF_FFFFL);
  }
}
