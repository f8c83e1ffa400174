package io.tollgate.handshake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tollgate.config.IoConfig.HandshakePriority;
import io.tollgate.config.IoConfig.HandshakeThreadsWhen;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

class HandshakeThreadsTest {
  @Test
  void aFloodedRouteDelaysAnotherRoutesStepByOneStepNotByItsWholeQueue() throws Exception {
    try (HandshakeThreads threads =
        new HandshakeThreads(1, HandshakePriority.NICE, HandshakeThreadsWhen.ALWAYS)) {
      CountDownLatch blocked = new CountDownLatch(1);
      CountDownLatch release = new CountDownLatch(1);
      List<String> order = new CopyOnWriteArrayList<>();
      threads.submit(
          "warm-up",
          step(
              () -> {
                blocked.countDown();
                await(release);
              }));
      assertThat(blocked.await(10, TimeUnit.SECONDS)).isTrue();
      for (int i = 1; i <= 5; i++) {
        String name = "flooded-" + i;
        threads.submit("flooded", step(() -> order.add(name)));
      }
      CountDownLatch done = new CountDownLatch(1);
      threads.submit(
          "other",
          step(
              () -> {
                order.add("other-1");
                done.countDown();
              }));
      assertThat(threads.waiting()).isEqualTo(6);
      release.countDown();
      assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
      waitFor(() -> order.size() == 6);
      assertThat(order).startsWith("flooded-1", "other-1");
      assertThat(order)
          .containsSubsequence("flooded-1", "flooded-2", "flooded-3", "flooded-4", "flooded-5");
      waitFor(() -> threads.stepsRun() == 7);
      assertThat(threads.waiting()).isZero();
    }
  }

  @Test
  void aClosedPoolRefusesNewStepsSoTheLoopRunsThemItself() {
    HandshakeThreads threads =
        new HandshakeThreads(1, HandshakePriority.NICE, HandshakeThreadsWhen.ALWAYS);
    threads.close();
    assertThat(threads.submit("r", step(() -> {}))).isFalse();
  }

  @Test
  void thePoolIsStalledOnlyWhenNoStepFinishedWithinTheReclaimDelay() throws Exception {
    String key = "tollgate.handshake.reclaimMillis";
    String before = System.getProperty(key);
    System.setProperty(key, "1000");
    long started = System.nanoTime();
    HandshakeThreads threads;
    try {
      threads = new HandshakeThreads(1, HandshakePriority.NICE, HandshakeThreadsWhen.ALWAYS);
    } finally {
      if (before == null) {
        System.clearProperty(key);
      } else {
        System.setProperty(key, before);
      }
    }
    try (threads) {
      boolean fresh = threads.stalled();
      if (System.nanoTime() - started < TimeUnit.MILLISECONDS.toNanos(500)) {
        assertThat(fresh).as("just started").isFalse();
      }
      Thread.sleep(1_100);
      assertThat(threads.stalled()).as("no step for over the delay").isTrue();
      CountDownLatch ran = new CountDownLatch(1);
      threads.submit("r", step(ran::countDown));
      assertThat(ran.await(10, TimeUnit.SECONDS)).isTrue();
      waitFor(() -> !threads.stalled());
      assertThat(threads.maxWaitNanos())
          .as("ten reclaim delays")
          .isEqualTo(TimeUnit.SECONDS.toNanos(10));
    }
  }

  @Test
  void aStepItsLoopTookBackIsNotCountedAsRun() throws Exception {
    try (HandshakeThreads threads =
        new HandshakeThreads(1, HandshakePriority.NICE, HandshakeThreadsWhen.ALWAYS)) {
      CountDownLatch next = new CountDownLatch(1);
      long[] countedBefore = new long[1];
      threads.submit("r", () -> false);
      threads.submit(
          "r",
          step(
              () -> {
                // One thread: the step before this one has been counted, or not, by now.
                countedBefore[0] = threads.stepsRun();
                next.countDown();
              }));
      assertThat(next.await(10, TimeUnit.SECONDS)).isTrue();
      assertThat(countedBefore[0]).isZero();
      waitFor(() -> threads.stepsRun() == 1);
    }
  }

  @Test
  @EnabledOnOs(OS.LINUX)
  void threadsAreUsedOnlyOnceEveryOneRunsLowered() throws Exception {
    assumeTrue(ThreadPriority.available(HandshakePriority.IDLE), "util-linux's chrt");
    try (HandshakeThreads threads =
        new HandshakeThreads(2, HandshakePriority.IDLE, HandshakeThreadsWhen.ALWAYS)) {
      waitFor(threads::usable);
      assertThat(threads.lowered()).isEqualTo(2);
    }
  }

  @Test
  @EnabledOnOs(OS.LINUX)
  void niceThreadsRunAtNice19() throws Exception {
    assumeTrue(ThreadPriority.available(HandshakePriority.NICE), "util-linux's renice");
    long[] seen = policyAndNiceSeenBy(HandshakePriority.NICE);
    assertThat(seen).isNotNull();
    assertThat(seen[1]).as("nice").isEqualTo(19);
  }

  @Test
  @EnabledOnOs(OS.LINUX)
  void idleThreadsRunUnderSchedIdle() throws Exception {
    assumeTrue(ThreadPriority.available(HandshakePriority.IDLE), "util-linux's chrt");
    long[] seen = policyAndNiceSeenBy(HandshakePriority.IDLE);
    assertThat(seen).isNotNull();
    assertThat(seen[0]).as("policy (SCHED_IDLE = 5)").isEqualTo(5);
  }

  @Test
  @EnabledOnOs(OS.LINUX)
  void theCallersOwnPriorityIsLeftAlone() throws Exception {
    assumeTrue(ThreadPriority.available(HandshakePriority.NICE), "util-linux's renice");
    long[] before = ThreadPriority.currentPolicyAndNice();
    policyAndNiceSeenBy(HandshakePriority.NICE);
    assertThat(ThreadPriority.currentPolicyAndNice()).isEqualTo(before);
  }

  private static long[] policyAndNiceSeenBy(HandshakePriority level) throws Exception {
    try (HandshakeThreads threads = new HandshakeThreads(1, level, HandshakeThreadsWhen.ALWAYS)) {
      CompletableFuture<long[]> seen = new CompletableFuture<>();
      threads.submit("r", step(() -> seen.complete(ThreadPriority.currentPolicyAndNice())));
      long[] result = seen.get(20, TimeUnit.SECONDS);
      assertThat(threads.lowered()).isEqualTo(1);
      return result;
    }
  }

  private static HandshakeThreads.Step step(Runnable work) {
    return () -> {
      work.run();
      return true;
    };
  }

  private static void await(CountDownLatch latch) {
    try {
      latch.await(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void waitFor(java.util.function.BooleanSupplier condition)
      throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean() && System.nanoTime() < end) {
      Thread.sleep(5);
    }
    assertThat(condition.getAsBoolean()).isTrue();
  }
}
