package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.tollgate.handshake.HandshakeThreads;
import io.tollgate.testkit.CommandLineTools;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * Starting a Tollgate whose handshake threads take steps back later or sooner than in production
 * (the delays are read when the threads start), and waiting until those threads run lowered.
 */
final class HandshakeThreadsUnderTest {
  private static final String RECLAIM = "tollgate.handshake.reclaimMillis";
  private static final String BACKOFF = "tollgate.handshake.reclaimBackoffMillis";

  private HandshakeThreadsUnderTest() {}

  /** Skips the calling test class where its threads could not lower their priority to idle. */
  static void assumeChrt() {
    assumeThat(CommandLineTools.which("chrt"))
        .as("util-linux's chrt (handshake threads at SCHED_IDLE)")
        .isPresent();
  }

  /**
   * Runs {@code start} with the reclaim delay and back-off set, then waits until the started
   * Tollgate's handshake threads are usable.
   */
  static TollgateFixture start(
      long reclaimMillis, long backoffMillis, Callable<TollgateFixture> start) throws Exception {
    TollgateFixture started;
    System.setProperty(RECLAIM, Long.toString(reclaimMillis));
    System.setProperty(BACKOFF, Long.toString(backoffMillis));
    try {
      started = start.call();
    } finally {
      System.clearProperty(RECLAIM);
      System.clearProperty(BACKOFF);
    }
    HandshakeThreads threads = started.tollgate().handshakeThreads();
    assertThat(threads).as("handshake threads").isNotNull();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!threads.usable() && System.nanoTime() < end) {
      Thread.sleep(10);
    }
    assertThat(threads.usable()).as("handshake threads run at their lowered priority").isTrue();
    return started;
  }
}
