package io.tollgate.ops;

import io.tollgate.Tollgate;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The end of a running process: SIGTERM or Ctrl-C (SIGINT) withdraw readiness ({@code GET /ready}
 * answers 503) and keep accepting for {@code timeouts.withdraw}, then stop accepting, give open
 * connections {@code timeouts.drain} to finish, close the rest (reason {@code shutdown}) and
 * return, so the command exits 0. Each further signal cuts the phase in progress short: the second
 * ends the withdraw period (the drain starts), the next ends the drain. A shutdown hook covers any
 * other way the JVM exits (the resources are closed once, whichever comes first).
 */
public final class Lifecycle {
  private static final Logger log = LoggerFactory.getLogger(Lifecycle.class);

  private final List<AutoCloseable> resources;
  private final CountDownLatch stopRequested = new CountDownLatch(1);
  private final CountDownLatch stopped = new CountDownLatch(1);
  private final AtomicBoolean stopping = new AtomicBoolean();

  /**
   * @param resources closed in order; a {@link Tollgate} among them is shut down with its config's
   *     {@code timeouts.withdraw} and {@code timeouts.drain} instead of closed at once
   */
  public Lifecycle(List<AutoCloseable> resources) {
    this.resources = List.copyOf(resources);
  }

  /** Stops as SIGTERM would (after an upgrade: the successor accepts, this process drains). */
  public void requestStop() {
    stopRequested.countDown();
  }

  /** Blocks until SIGTERM or SIGINT, then stops everything; returns when that is done. */
  public void awaitStop() throws InterruptedException {
    Runnable onSignal =
        () -> {
          if (stopRequested.getCount() == 0) {
            log.info("Another stop signal: cutting the withdraw period or the drain short");
            resources.forEach(
                r -> {
                  if (r instanceof Tollgate t) {
                    t.hurryShutdown();
                  }
                });
          }
          stopRequested.countDown();
        };
    boolean signals = Signals.handle("TERM", onSignal) & Signals.handle("INT", onSignal);
    Thread hook =
        new Thread(
            () -> {
              stopRequested.countDown();
              stopAll();
            },
            "tollgate-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    if (!signals) {
      log.warn("Stop signals are handled by the JVM: connections are not drained on shutdown");
    }
    stopRequested.await();
    stopAll();
  }

  private void stopAll() {
    if (!stopping.compareAndSet(false, true)) {
      try {
        stopped.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return;
    }
    try {
      for (AutoCloseable r : resources) {
        try {
          if (r instanceof Tollgate t) {
            var timeouts = t.snapshot().config().timeouts();
            t.shutdown(timeouts.withdraw(), timeouts.drain());
          } else {
            r.close();
          }
        } catch (Exception e) {
          log.warn("while stopping: {}", e.toString());
        }
      }
      log.info("Tollgate stopped");
    } finally {
      stopped.countDown();
    }
  }
}
