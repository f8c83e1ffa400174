package io.tollgate.it;

import io.tollgate.pki.CertificateAuthority;
import io.tollgate.testkit.DataPattern;
import io.tollgate.testkit.TlsTestClient;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A long transfer that is open across an event: connects, sends the first half of its bytes ({@link
 * DataPattern}, client seed) and waits until {@link #resume} before sending the rest, while reading
 * and hashing everything the backend sends ({@link
 * io.tollgate.testkit.TlsTestServer#sha256Exchange}) until EOF. So the connection is certainly in
 * flight on whoever accepted it when the event happens.
 */
final class HeldTransfer {
  /** What the client received: bytes and SHA-256, or the failure. */
  record Outcome(long bytes, String sha256, Throwable failure) {}

  private final CountDownLatch resume = new CountDownLatch(1);
  private final CountDownLatch halfSent = new CountDownLatch(1);
  private final CompletableFuture<Outcome> outcome = new CompletableFuture<>();

  HeldTransfer(int port, String name, CertificateAuthority ca, long bytes) {
    Thread t =
        new Thread(
            () -> {
              try (TlsTestClient.Connection c = TlsTestClient.connect(port, name, ca)) {
                c.socket().setSoTimeout(120_000);
                InputStream in = c.socket().getInputStream();
                CompletableFuture<Outcome> read = CompletableFuture.supplyAsync(() -> readAll(in));
                OutputStream out = c.socket().getOutputStream();
                DataPattern pattern = new DataPattern(DataPattern.CLIENT_SEED);
                byte[] chunk = new byte[DataPattern.CHUNK];
                long sent = 0;
                while (sent < bytes) {
                  if (sent >= bytes / 2 && halfSent.getCount() > 0) {
                    out.flush();
                    halfSent.countDown();
                    if (!resume.await(120, TimeUnit.SECONDS)) {
                      throw new IllegalStateException("never resumed");
                    }
                  }
                  int n = (int) Math.min(chunk.length, bytes - sent);
                  pattern.nextBytes(chunk, 0, n);
                  out.write(chunk, 0, n);
                  sent += n;
                }
                out.flush();
                outcome.complete(read.get());
              } catch (Throwable e) {
                halfSent.countDown();
                outcome.complete(new Outcome(0, "", e));
              }
            },
            "held-transfer-" + name);
    t.setDaemon(true);
    t.start();
  }

  private static Outcome readAll(InputStream in) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      byte[] buffer = new byte[DataPattern.CHUNK];
      long total = 0;
      for (int n; (n = in.read(buffer)) != -1; ) {
        digest.update(buffer, 0, n);
        total += n;
      }
      return new Outcome(total, HexFormat.of().formatHex(digest.digest()), null);
    } catch (Exception e) {
      return new Outcome(0, "", e);
    }
  }

  /** Blocks until half of the bytes are sent (or the transfer failed). */
  void awaitHalfSent() throws InterruptedException {
    if (!halfSent.await(60, TimeUnit.SECONDS)) {
      throw new AssertionError("the transfer did not send half its bytes within 60s");
    }
  }

  /** Sends the rest. */
  void resume() {
    resume.countDown();
  }

  CompletableFuture<Outcome> outcome() {
    return outcome;
  }
}
