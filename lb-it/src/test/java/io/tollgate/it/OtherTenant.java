package io.tollgate.it;

import java.net.InetAddress;
import java.net.Socket;
import java.util.List;

/**
 * Another tenant's connections routed on a Tollgate's loop every few milliseconds (a passthrough
 * hello for {@code name}, then a reset), so handshake steps there compete with other work: the loop
 * counts as contended, and its handshake turns are paced.
 */
final class OtherTenant implements AutoCloseable {
  private final Thread thread;
  private final int port;
  private final String name;
  private final long intervalMillis;
  private final int max;
  private volatile boolean stop;

  private OtherTenant(int port, String name, long intervalMillis, int max) {
    this.port = port;
    this.name = name;
    this.intervalMillis = intervalMillis;
    this.max = max;
    thread = new Thread(this::run, "other-tenant");
    thread.setDaemon(true);
  }

  /**
   * Starts sending, at most {@code max} connections (bounded: a test's timeout ends it anyway), and
   * gives the first ones 50 ms to be routed.
   */
  static OtherTenant start(int port, String name, long intervalMillis, int max)
      throws InterruptedException {
    OtherTenant other = new OtherTenant(port, name, intervalMillis, max);
    other.thread.start();
    Thread.sleep(50);
    return other;
  }

  private void run() {
    try {
      byte[] hello = JdkClientHello.forName(name, List.of());
      for (int i = 0; i < max && !stop; i++) {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
          s.setSoLinger(true, 0);
          s.getOutputStream().write(hello);
          s.getOutputStream().flush();
          Thread.sleep(intervalMillis);
        }
      }
    } catch (Exception e) {
      // the test ends; nothing to report
    }
  }

  @Override
  public void close() throws InterruptedException {
    stop = true;
    thread.join(10_000);
  }
}
