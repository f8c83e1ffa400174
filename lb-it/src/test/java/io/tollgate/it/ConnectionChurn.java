package io.tollgate.it;

import io.tollgate.pki.CertificateAuthority;
import io.tollgate.testkit.TlsTestClient;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.ConnectException;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * New TLS connections one after another on a thread of its own, a few milliseconds apart, until
 * stopped or a bound in count and time is reached: each completes a handshake (verifying the
 * certificate for its name), reads the backend's one-line greeting and closes. Failures are counted
 * by kind: refused (nothing listened), reset (a listener or connection went away under it), other.
 */
final class ConnectionChurn implements AutoCloseable {
  private final AtomicBoolean stop = new AtomicBoolean();
  private final AtomicInteger attempted = new AtomicInteger();
  private final AtomicInteger served = new AtomicInteger();
  private final AtomicInteger refused = new AtomicInteger();
  private final AtomicInteger reset = new AtomicInteger();
  private final List<String> other = new CopyOnWriteArrayList<>();
  private final Thread thread;

  /**
   * @param greeting what the backend behind {@code name} says first
   * @param pause between one connection's close and the next connect
   * @param maxConnections and {@code maxTime}: whichever comes first ends the loop
   */
  ConnectionChurn(
      int port,
      String name,
      String greeting,
      CertificateAuthority ca,
      Duration pause,
      int maxConnections,
      Duration maxTime) {
    long end = System.nanoTime() + maxTime.toNanos();
    thread =
        new Thread(
            () -> {
              while (!stop.get() && attempted.get() < maxConnections && System.nanoTime() < end) {
                attempted.incrementAndGet();
                try (TlsTestClient.Connection c = TlsTestClient.connect(port, name, ca)) {
                  String line =
                      new BufferedReader(
                              new InputStreamReader(
                                  c.socket().getInputStream(), StandardCharsets.UTF_8))
                          .readLine();
                  if (greeting.equals(line)) {
                    served.incrementAndGet();
                  } else {
                    other.add("unexpected greeting " + line);
                  }
                } catch (Exception e) {
                  classify(e);
                }
                try {
                  Thread.sleep(pause.toMillis());
                } catch (InterruptedException e) {
                  return;
                }
              }
            },
            "churn-" + name);
    thread.setDaemon(true);
    thread.start();
  }

  private void classify(Exception e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof ConnectException) {
        refused.incrementAndGet();
        return;
      }
      if (t instanceof SocketException && String.valueOf(t.getMessage()).contains("reset")) {
        reset.incrementAndGet();
        return;
      }
    }
    other.add(e.toString());
  }

  int attempted() {
    return attempted.get();
  }

  int served() {
    return served.get();
  }

  int refused() {
    return refused.get();
  }

  int reset() {
    return reset.get();
  }

  List<String> other() {
    return List.copyOf(other);
  }

  /** Stops the loop and waits for its last connection. */
  @Override
  public void close() throws InterruptedException {
    stop.set(true);
    thread.join(30_000);
  }
}
