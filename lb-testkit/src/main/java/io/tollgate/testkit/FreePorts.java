package io.tollgate.testkit;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Loopback ports for a test to bind later (a listener in a config file, pebble's validation ports)
 * or to leave closed (a backend that refuses).
 *
 * <p>Why not {@code new ServerSocket(0)}, read the port, close it: that port comes from the
 * kernel's ephemeral range, the range every outgoing connection's local port also comes from.
 * Between the read and the real bind, a client socket of the same test run (a health probe,
 * pebble's validation, a relay's backend connection) can take it, and the bind then fails with
 * "Address already in use" (it did in CI, stop 35). The kernel can also hand the same port to two
 * such calls in a row. So the ports here come from below the ephemeral range, which nothing takes
 * by itself, are chosen at random (two JVMs rarely pick the same one), are checked to be bindable
 * without {@code SO_REUSEADDR} (so no TIME_WAIT lingers on them either), and are never handed out
 * twice in one JVM.
 */
public final class FreePorts {
  private static final Set<Integer> HANDED_OUT = ConcurrentHashMap.newKeySet();
  private static final int[] RANGE = range();

  private FreePorts() {}

  /** A loopback port that nothing listens on now and that this JVM has not handed out before. */
  public static int next() {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    for (int attempt = 0; attempt < 1000; attempt++) {
      int port = RANGE[0] + random.nextInt(RANGE[1] - RANGE[0]);
      if (HANDED_OUT.add(port) && bindable(port)) {
        return port;
      }
    }
    throw new IllegalStateException(
        "no free loopback port in " + RANGE[0] + ".." + (RANGE[1] - 1) + " after 1000 tries");
  }

  private static boolean bindable(int port) {
    try (ServerSocket s = new ServerSocket()) {
      s.setReuseAddress(false);
      s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** [low, high): below the ephemeral range when there is room, else above it. */
  private static int[] range() {
    long[] ephemeral =
        Sysctl.numbers("net.ipv4.ip_local_port_range").orElse(new long[] {32768, 60999});
    int low = (int) ephemeral[0];
    int high = (int) ephemeral[1];
    if (low - 10_000 >= 5_000) {
      return new int[] {10_000, low};
    }
    if (65_535 - high >= 5_000) {
      return new int[] {high + 1, 65_536};
    }
    // The ephemeral range covers nearly everything: random choice and the bind check must do.
    return new int[] {1024, 65_536};
  }
}
