package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.connection.CloseReason;
import io.tollgate.handshake.HandshakeThreads;
import io.tollgate.pki.CertificateAuthority;
import io.tollgate.pki.CertificateAuthority.KeyType;
import io.tollgate.testkit.TlsTestServer;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code io.handshake-threads = auto} with {@code handshake-threads-when = contended}: a
 * ClientHello step leaves its loop only when it competes with other work (another route routed on
 * the loop lately, and steps already waiting), and a step that waits too long for a thread the
 * loops starve (here: the only thread is held by the test) is taken back by its loop and runs
 * there, for the right tenant, with that tenant's certificate.
 */
@Timeout(120)
class ContendedHandshakeThreadsTest {
  @TempDir static Path dir;
  @RegisterExtension static final ClassResources resources = new ClassResources();
  private static CertificateAuthority ca;
  private static TollgateFixture tollgate;
  private static TlsTestServer passBackend;

  @BeforeAll
  static void start() throws Exception {
    HandshakeThreadsUnderTest.assumeChrt();
    ca = CertificateAuthority.create("Tollgate Contended Handshake CA", KeyType.EC_P256);
    ca.writeCertificatePem(dir.resolve("ca.pem"));
    ca.issue(KeyType.EC_P256, "a.test").writePem(dir, "a");
    ca.issue(KeyType.EC_P256, "b.test").writePem(dir, "b");
    ca.issue(KeyType.EC_P256, "leaves.test", "closes.test").writePem(dir, "leaves");
    TlsTestServer backend = resources.add(TlsTestServer.startPlain(TlsTestServer.greet("plain")));
    passBackend =
        resources.add(
            TlsTestServer.start(
                ca.issue(KeyType.EC_P256, "pass.test"), TlsTestServer.greet("pass")));
    // One worker loop, so every connection below is routed on the loop the steps compete on.
    // Steps taken back after 3 s (not 100 ms: a slow test box must not take them back before the
    // test looked), and no back-off after that, so each test's steps are contended again.
    tollgate =
        resources.add(
            HandshakeThreadsUnderTest.start(
                3_000,
                0,
                () ->
                    TollgateFixture.startIn(
                        dir,
                        """
        access-log { path = "access.log" }
        io { worker-threads = 1, handshake-threads = auto, handshake-threads-when = contended }
        routes = [
          { hosts = ["pass.test"], pool = pass }
          { hosts = ["a.test"], mode = offload, pool = p,
            certificate { chain = "a.pem", key = "a.key" } }
          { hosts = ["leaves.test", "closes.test"], mode = offload, pool = p,
            certificate { chain = "leaves.pem", key = "leaves.key" } }
          { hosts = ["b.test"], mode = offload, pool = p,
            certificate { chain = "b.pem", key = "b.key" } }
        ]
        pools {
          p { servers = ["127.0.0.1:%d"] }
          pass { servers = ["127.0.0.1:%d"] }
        }
        """
                            .formatted(backend.port(), passBackend.port()))));
    assertThat(threads().size()).as("auto: one handshake thread per worker loop").isEqualTo(1);
  }

  private static HandshakeThreads threads() {
    return tollgate.tollgate().handshakeThreads();
  }

  @Test
  void withNothingWaitingStepsStayOnTheLoopEvenWithTwoTenantsTakingTurns() throws Exception {
    drain();
    long ran = threads().stepsRun();
    for (int i = 0; i < 3; i++) {
      assertThat(greeting("pass.test")).isEqualTo("pass");
      assertThat(greeting("a.test")).isEqualTo("plain");
      assertThat(greeting("b.test")).isEqualTo("plain");
    }
    assertThat(threads().stepsRun() - ran).as("steps run on the handshake thread").isZero();
  }

  @Test
  void contendedStepsGoToTheThreadAndTheLoopTakesThemBackWhenTheThreadNeverRuns() throws Exception {
    drain();
    long reclaimedBefore = threads().stepsReclaimed();
    long ranBefore = threads().stepsRun();
    try (HeldThread held = HeldThread.hold(threads());
        OtherTenant other = otherTenant()) {
      ExecutorService clients = Executors.newFixedThreadPool(2);
      try {
        // Another tenant's connections on the loop, and two tenants' handshakes while a step
        // already waits for the (held) thread: both are sent there, and both come back.
        Future<String> a = clients.submit(() -> servedName("a.test"));
        Future<String> b = clients.submit(() -> servedName("b.test"));
        assertThat(a.get(30, TimeUnit.SECONDS)).as("a.test's certificate").isEqualTo("a.test");
        assertThat(b.get(30, TimeUnit.SECONDS)).as("b.test's certificate").isEqualTo("b.test");
      } finally {
        clients.shutdownNow();
      }
      assertThat(threads().stepsReclaimed() - reclaimedBefore)
          .as("steps the loop took back")
          .isEqualTo(2);
    }
    // The steps the loop took back stay in the thread's queue until it runs again: they must
    // not run a second time (counted as run, or touching a finished connection).
    drain();
    assertThat(threads().stepsRun() - ranBefore)
        .as("the test's two held steps and the drain's barrier, not the steps taken back")
        .isEqualTo(3);
    assertThat(greeting("a.test")).as("the next connection").isEqualTo("plain");
  }

  @Test
  void stepsRunBackToBackOnTheThreadAreAllServedWithoutTheLoopTakingThemBack() throws Exception {
    drain();
    long reclaimedBefore = threads().stepsReclaimed();
    long ranBefore = threads().stepsRun();
    ExecutorService clients = Executors.newFixedThreadPool(3);
    try {
      List<Future<String>> served = new ArrayList<>();
      try (HeldThread held = HeldThread.hold(threads())) {
        // The backlog, not the queue's size: reading that takes the lock a loop only tries for.
        int queued = threads().backlog();
        try (OtherTenant other = otherTenant()) {
          for (String name : List.of("a.test", "b.test", "a.test")) {
            served.add(clients.submit(() -> servedName(name)));
          }
          long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
          while (threads().backlog() < queued + 3 && System.nanoTime() < end) {
            Thread.sleep(2);
          }
          assertThat(threads().backlog()).as("three steps queued").isEqualTo(queued + 3);
        }
        // Nothing else wakes the loop now: the thread hands the first results back without a
        // wake-up (more steps wait behind them) and the last one wakes it for all of them.
      }
      for (int i = 0; i < 3; i++) {
        assertThat(served.get(i).get(30, TimeUnit.SECONDS)).isEqualTo(i == 1 ? "b.test" : "a.test");
      }
    } finally {
      clients.shutdownNow();
    }
    allRanOnTheThread(
        reclaimedBefore, ranBefore, 6, "two held steps, three handshakes, the last barrier");
  }

  @Test
  void aStepQueuedBehindStepsTheThreadIsWorkingThroughWaitsItsTurnInsteadOfGoingBack()
      throws Exception {
    drain();
    long reclaimedBefore = threads().stepsReclaimed();
    long ranBefore = threads().stepsRun();
    // Four steps of other routes ahead of a.test's (one per route: the queue serves routes in
    // turn), each 1.5 s: a.test's step waits ~6 s, past the 3 s reclaim delay (taken back at
    // about 3 s after it was queued before this rule, even with a slow client), while the thread
    // finishes a step every 1.5 s. That is a backlog being served, not a starved thread.
    for (int i = 1; i <= 4; i++) {
      threads()
          .submit(
              "test-slow-" + i,
              () -> {
                try {
                  Thread.sleep(1_500);
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
                return true;
              });
    }
    ExecutorService clients = Executors.newSingleThreadExecutor();
    try (OtherTenant other = otherTenant()) {
      long start = System.nanoTime();
      Future<String> a = clients.submit(() -> servedName("a.test"));
      assertThat(a.get(30, TimeUnit.SECONDS)).as("a.test's certificate").isEqualTo("a.test");
      assertThat(Duration.ofNanos(System.nanoTime() - start))
          .as("served after the slow steps, so it waited past the reclaim delay")
          .isGreaterThan(Duration.ofMillis(3_000));
    } finally {
      clients.shutdownNow();
    }
    allRanOnTheThread(
        reclaimedBefore, ranBefore, 6, "four slow steps, a.test's step, the last barrier");
  }

  @Test
  void aClientResettingWhileItsStepWaitsForTheThreadEndsAtOnce() throws Exception {
    drain();
    long reclaimedBefore = threads().stepsReclaimed();
    try (HeldThread held = HeldThread.hold(threads());
        OtherTenant other = otherTenant()) {
      sendHelloAndLeave("leaves.test", true, threads().backlog() + 1);
      Map<String, Object> line =
          AccessLogFile.lineFor(dir.resolve("access.log"), "leaves.test", Duration.ofSeconds(10));
      // Reads are off while the step waits: epoll reports the reset as the socket's end.
      assertThat(line.get("reason"))
          .isIn(CloseReason.CLIENT_RESET.label(), CloseReason.CLIENT_CLOSED.label());
      // Ended by the reset, while the step still waited: not taken back by the timer.
      assertThat(threads().stepsReclaimed()).isEqualTo(reclaimedBefore);
    }
    assertThat(greeting("a.test")).as("the next connection").isEqualTo("plain");
  }

  @Test
  void aClientClosingWhileItsStepWaitsForTheThreadEndsAsClosed() throws Exception {
    drain();
    try (HeldThread held = HeldThread.hold(threads());
        OtherTenant other = otherTenant()) {
      // Reads are off while a step waits, so the FIN is read once the loop has taken the step
      // back and sent the server's flight.
      sendHelloAndLeave("closes.test", false, threads().backlog() + 1);
      Map<String, Object> line =
          AccessLogFile.lineFor(dir.resolve("access.log"), "closes.test", Duration.ofSeconds(10));
      assertThat(line.get("reason"))
          .isIn(CloseReason.CLIENT_CLOSED.label(), CloseReason.CLIENT_RESET.label());
    }
    assertThat(greeting("a.test")).as("the next connection").isEqualTo("plain");
  }

  /**
   * No step was taken back since {@code reclaimedBefore}, and once the thread has run everything
   * queued (plus {@link #drain}'s barrier), it ran {@code ran} steps since {@code ranBefore}.
   */
  private static void allRanOnTheThread(long reclaimedBefore, long ranBefore, int ran, String which)
      throws InterruptedException {
    assertThat(threads().stepsReclaimed()).as("steps taken back").isEqualTo(reclaimedBefore);
    drain();
    assertThat(threads().stepsRun() - ranBefore).as(which).isEqualTo(ran);
  }

  /** Sends a hello, waits until its step is queued for the held thread, then leaves. */
  private static void sendHelloAndLeave(String name, boolean reset, int queuedWithIt)
      throws Exception {
    byte[] hello = JdkClientHello.forName(name, List.of());
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), tollgate.port())) {
      if (reset) {
        s.setSoLinger(true, 0);
      }
      OutputStream out = s.getOutputStream();
      out.write(hello);
      out.flush();
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      // The backlog, not the queue's size: reading that takes the lock a loop only tries for.
      while (threads().backlog() < queuedWithIt && System.nanoTime() < end) {
        Thread.sleep(2);
      }
      assertThat(threads().backlog()).as("the step queued for the thread").isEqualTo(queuedWithIt);
    }
  }

  /**
   * Waits until the handshake thread ran everything queued before now, and counted it: once the
   * queue is empty, a barrier step runs after the last step taken (one thread).
   */
  private static void drain() throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (threads().waiting() > 0 && System.nanoTime() < end) {
      Thread.sleep(5);
    }
    assertThat(threads().waiting()).as("steps waiting for the thread").isZero();
    CountDownLatch done = new CountDownLatch(1);
    long[] countedBefore = new long[1];
    threads()
        .submit(
            "test-barrier",
            () -> {
              countedBefore[0] = threads().stepsRun();
              done.countDown();
              return true;
            });
    assertThat(done.await(30, TimeUnit.SECONDS)).as("the barrier ran").isTrue();
    while (threads().stepsRun() <= countedBefore[0] && System.nanoTime() < end) {
      Thread.sleep(5);
    }
    assertThat(threads().stepsRun()).as("the barrier counted").isGreaterThan(countedBefore[0]);
  }

  private static String greeting(String name) throws Exception {
    return new CertificateProbe(ca, tollgate.port()).greeting(name);
  }

  /** The DNS name of the certificate Tollgate presented for {@code name}. */
  private static String servedName(String name) throws Exception {
    return new CertificateProbe(ca, tollgate.port()).servedName(name, "plain");
  }

  /** Passthrough hellos every 5 ms: the loop counts as contended whenever a step is routed. */
  private static OtherTenant otherTenant() throws InterruptedException {
    return OtherTenant.start(tollgate.port(), "pass.test", 5, 20_000);
  }

  /**
   * Keeps the handshake thread busy (as loops that never leave it a cycle would) with one step of
   * the test's, and one more waiting behind it, so the thread's backlog is not empty.
   */
  private static final class HeldThread implements AutoCloseable {
    private final CountDownLatch release = new CountDownLatch(1);

    static HeldThread hold(HandshakeThreads threads) throws InterruptedException {
      HeldThread held = new HeldThread();
      CountDownLatch running = new CountDownLatch(1);
      threads.submit(
          "test-hold",
          () -> {
            running.countDown();
            held.await();
            return true;
          });
      assertThat(running.await(10, TimeUnit.SECONDS)).isTrue();
      threads.submit(
          "test-hold",
          () -> {
            held.await();
            return true;
          });
      return held;
    }

    private void await() {
      try {
        release.await(60, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    @Override
    public void close() {
      release.countDown();
    }
  }
}
