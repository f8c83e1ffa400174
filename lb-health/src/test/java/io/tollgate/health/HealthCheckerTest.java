package io.tollgate.health;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.tollgate.config.HealthCheckConfig;
import io.tollgate.config.HealthCheckConfig.Initial;
import io.tollgate.config.HealthCheckConfig.Type;
import io.tollgate.config.HostPort;
import io.tollgate.config.PassiveEjectionConfig;
import io.tollgate.testkit.Await;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Active checks and passive ejection against real servers over loopback. */
class HealthCheckerTest {
  /** Scheduling slack on a busy 2-core machine; not a performance bound. */
  private static final long SLACK_MS = 700;

  private static final Duration INTERVAL = Duration.ofMillis(100);
  private static final Duration TIMEOUT = Duration.ofMillis(200);

  private EventLoopGroup group;
  private HealthChecker checker;
  private final List<FakeBackend> backends = new ArrayList<>();

  @BeforeEach
  void setUp() {
    group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    checker = new HealthChecker(group, true, System::nanoTime, new Random(1), 8);
  }

  @AfterEach
  void tearDown() throws Exception {
    checker.close();
    for (FakeBackend b : backends) {
      b.close();
    }
  }

  private FakeBackend backend() throws Exception {
    FakeBackend b = FakeBackend.start();
    backends.add(b);
    return b;
  }

  private static HealthCheckConfig check(Type type, int rise, int fall) {
    return HealthCheckConfig.defaults(type)
        .withTimings(INTERVAL, TIMEOUT, rise, fall)
        .withStart(Initial.DOWN, 0, Optional.empty());
  }

  private static HealthChecker.Target target(
      String pool,
      InetSocketAddress a,
      Optional<HealthCheckConfig> check,
      PassiveEjectionConfig passive) {
    return new HealthChecker.Target(
        new ServerKey(pool, a),
        HostPort.parse("127.0.0.1:" + a.getPort()),
        check,
        passive,
        Optional.empty());
  }

  private ServerState applyOne(HealthChecker.Target t) {
    return checker.apply(List.of(t)).get(t.key());
  }

  /** Waits for the state; returns how long it took in ms. */
  static long await(ServerState s, boolean up, long maxMillis) throws InterruptedException {
    long start = System.nanoTime();
    long deadline = start + maxMillis * 1_000_000;
    while (s.isUp() != up) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(
            "not "
                + (up ? "up" : "down")
                + " after "
                + maxMillis
                + " ms: "
                + s
                + " ("
                + s.reason()
                + ")");
      }
      Thread.sleep(5);
    }
    return (System.nanoTime() - start) / 1_000_000;
  }

  /** Waits until {@code b} has answered {@code n} probes. */
  static void awaitAnswers(FakeBackend b, int n) throws InterruptedException {
    Await.until(
        () -> b.answered.get() >= n,
        Duration.ofSeconds(5),
        () -> b.answered.get() + " of " + n + " probes answered");
  }

  @Test
  void killedServerIsOutWithinFallTimesIntervalPlusTimeoutAndBackAfterRise() throws Exception {
    FakeBackend b = backend();
    ServerState s =
        applyOne(
            target(
                "web", b.address(), Optional.of(check(Type.TCP, 2, 3)), PassiveEjectionConfig.OFF));
    await(s, true, 2000);
    assertThat(s.reason()).contains("first tcp check passed");

    b.stop();
    // fall x interval + timeout, plus scheduling slack
    await(s, false, 3 * INTERVAL.toMillis() + TIMEOUT.toMillis() + SLACK_MS);
    assertThat(s.reason()).startsWith("connect refused (3 failed tcp check(s) in a row)");

    b.restart();
    // down-interval (2 x interval) until the first success, then rise - 1 fast intervals
    await(s, true, 2 * INTERVAL.toMillis() + INTERVAL.toMillis() + TIMEOUT.toMillis() + SLACK_MS);
    assertThat(s.reason()).startsWith("tcp check passed 2 time(s) in a row");
    assertThat(s.rampStartNanos()).isNotEqualTo(ServerState.NO_RAMP);
  }

  @Test
  void httpCheckMarksDownOnStatus503AndUpAgainOn200() throws Exception {
    FakeBackend b = backend();
    ServerState s =
        applyOne(
            target(
                "web",
                b.address(),
                Optional.of(check(Type.HTTP, 1, 2)),
                PassiveEjectionConfig.OFF));
    await(s, true, 2000);

    b.status = 503;
    await(s, false, 2000);
    assertThat(s.reason()).startsWith("status 503");

    b.status = 204;
    await(s, true, 2000);
    assertThat(s.reason()).contains("status 204");
  }

  @Test
  void httpCheckWantsTheExpectedBody() throws Exception {
    FakeBackend b = backend();
    HealthCheckConfig c =
        check(Type.HTTP, 1, 1).withHttp("/healthz", 200, 299, Optional.of("\"status\":\"ok\""));
    ServerState s = applyOne(target("web", b.address(), Optional.of(c), PassiveEjectionConfig.OFF));
    b.body = "{\"status\":\"degraded\"}";
    // Three answers: the monitor has judged at least two (it schedules a probe after a result).
    awaitAnswers(b, 3);
    assertThat(s.isUp()).isFalse();

    b.body = "{\"status\":\"ok\"}";
    await(s, true, 2000);
    b.body = "{\"status\":\"failing\"}";
    await(s, false, 2000);
    assertThat(s.reason()).contains("body does not contain");
  }

  @Test
  void aServerThatNeverAnswersTimesOutWithoutDelayingTheChecksOfOthers() throws Exception {
    FakeBackend slow = backend();
    FakeBackend failing = backend();
    slow.silent = true;
    HealthCheckConfig c = check(Type.HTTP, 1, 1).withStart(Initial.UP, 0, Optional.empty());
    HealthCheckConfig slowCheck =
        c.withTimings(INTERVAL, Duration.ofSeconds(3), 1, 1)
            .withStart(Initial.UP, 0, Optional.empty());
    Map<ServerKey, ServerState> states =
        checker.apply(
            List.of(
                target("p", slow.address(), Optional.of(slowCheck), PassiveEjectionConfig.OFF),
                target("p", failing.address(), Optional.of(c), PassiveEjectionConfig.OFF)));
    ServerState slowState = states.get(new ServerKey("p", slow.address()));
    ServerState failingState = states.get(new ServerKey("p", failing.address()));

    failing.status = 500;
    // The slow server's first probe is still waiting for its 3 s timeout meanwhile.
    await(failingState, false, 1500);
    assertThat(slowState.isUp()).isTrue();

    await(slowState, false, 3000 + SLACK_MS + 1000);
    assertThat(slowState.reason()).startsWith("timeout after 3s");
  }

  @Test
  void initialUpServesAtOnceAndInitialDownWaitsForTheFirstCheck() throws Exception {
    FakeBackend b = backend();
    HealthCheckConfig down =
        check(Type.TCP, 3, 3).withTimings(Duration.ofSeconds(30), TIMEOUT, 3, 3);
    // Every check of this one fails, so a server that starts down never serves. Its checks run
    // every interval, so the test can wait for two to have been answered (and so the first one
    // judged) instead of sleeping.
    FakeBackend failing = backend();
    failing.status = 503;
    ServerState never =
        applyOne(
            target(
                "z",
                failing.address(),
                Optional.of(check(Type.HTTP, 3, 3)),
                PassiveEjectionConfig.OFF));
    assertThat(never.isUp()).isFalse();
    awaitAnswers(failing, 2);
    assertThat(never.isUp()).isFalse();

    ServerState s =
        applyOne(target("a", b.address(), Optional.of(down), PassiveEjectionConfig.OFF));
    await(s, true, 2000); // one success is enough at start, not rise = 3
    assertThat(s.rampStartNanos()).isEqualTo(ServerState.NO_RAMP);

    HealthCheckConfig up = down.withStart(Initial.UP, 0, Optional.empty());
    ServerState u =
        checker
            .apply(List.of(target("b", b.address(), Optional.of(up), PassiveEjectionConfig.OFF)))
            .values()
            .iterator()
            .next();
    assertThat(u.isUp()).isTrue();
  }

  @Test
  void aPoolWithoutCheckIsUpAndPassiveEjectionBacksOffThenRetries() throws Exception {
    InetSocketAddress nowhere = new InetSocketAddress("127.0.0.1", 9);
    ServerState s =
        applyOne(
            target(
                "p",
                nowhere,
                Optional.empty(),
                new PassiveEjectionConfig(3, Duration.ofMillis(200))));
    assertThat(s.isUp()).isTrue();

    checker.connectFailed(s, "connect refused");
    checker.connectFailed(s, "connect refused");
    assertThat(s.isUp()).isTrue();
    checker.connectFailed(s, "connect refused");
    assertThat(s.isUp()).isFalse();
    assertThat(s.reason())
        .isEqualTo("passive ejection: 3 connect failure(s) in a row, last: connect refused");

    await(s, true, 200 + SLACK_MS);
    assertThat(s.reason()).contains("backoff of 200ms elapsed");
  }

  @Test
  void aSuccessBreaksTheRunOfFailures() {
    InetSocketAddress a = new InetSocketAddress("127.0.0.1", 9);
    ServerState s = applyOne(target("p", a, Optional.empty(), PassiveEjectionConfig.DEFAULTS));
    checker.connectFailed(s, "x");
    checker.connectFailed(s, "x");
    checker.connectSucceeded(s);
    checker.connectFailed(s, "x");
    checker.connectFailed(s, "x");
    assertThat(s.isUp()).isTrue();
  }

  @Test
  void passivelyEjectedServerWithActiveCheckComesBackOnlyAfterRise() throws Exception {
    FakeBackend b = backend();
    HealthCheckConfig c = check(Type.TCP, 3, 3).withStart(Initial.UP, 0, Optional.empty());
    ServerState s =
        applyOne(
            target(
                "p",
                b.address(),
                Optional.of(c),
                new PassiveEjectionConfig(1, Duration.ofMillis(10))));
    checker.connectFailed(s, "connect refused");
    assertThat(s.isUp()).isFalse();
    // backoff (10 ms) does not apply with an active check; rise = 3 probes do
    await(s, true, 2 * INTERVAL.toMillis() + 2 * INTERVAL.toMillis() / 2 + SLACK_MS + 500);
    assertThat(s.reason()).startsWith("tcp check passed 3 time(s) in a row");
  }

  @Test
  void stateSurvivesReapplyingTheConfigAndGoesWithTheServer() throws Exception {
    FakeBackend b = backend();
    FakeBackend other = backend();
    var t1 =
        target("p", b.address(), Optional.of(check(Type.TCP, 1, 1)), PassiveEjectionConfig.OFF);
    var t2 = target("p", other.address(), Optional.empty(), PassiveEjectionConfig.OFF);
    Map<ServerKey, ServerState> first = checker.apply(List.of(t1, t2));
    ServerState s = first.get(t1.key());
    await(s, true, 2000);
    s.drain(true);

    Map<ServerKey, ServerState> second = checker.apply(List.of(t1));
    assertThat(second.get(t1.key())).isSameAs(s);
    assertThat(s.isUp()).isTrue();
    assertThat(s.isDraining()).isTrue();
    assertThat(checker.state(t2.key())).isEmpty();

    // A changed check restarts probing but keeps the state.
    // A generous probe timeout: with fall 1, one probe slowed past 200 ms by a loaded machine
    // would take the server down (for "timeout") before the 500 this checks.
    HealthCheckConfig http =
        HealthCheckConfig.defaults(Type.HTTP)
            .withTimings(INTERVAL, Duration.ofSeconds(3), 1, 1)
            .withStart(Initial.DOWN, 0, Optional.empty());
    var t1b = target("p", b.address(), Optional.of(http), PassiveEjectionConfig.OFF);
    assertThat(checker.apply(List.of(t1b)).get(t1.key())).isSameAs(s);
    b.status = 500;
    await(s, false, 5000);
    assertThat(s.reason()).startsWith("status 500");
  }

  @Test
  void updatePoolFollowsOnePoolsNewServerSetAndDoesNothingOnceAReloadCommitted() throws Exception {
    FakeBackend kept = backend();
    FakeBackend gone = backend();
    FakeBackend added = backend();
    FakeBackend otherPool = backend();
    // HTTP: FakeBackend counts the probes it answers.
    var check = Optional.of(check(Type.HTTP, 1, 1));
    var tKept = target("p", kept.address(), check, PassiveEjectionConfig.OFF);
    var tGone = target("p", gone.address(), check, PassiveEjectionConfig.OFF);
    var tAdded = target("p", added.address(), check, PassiveEjectionConfig.OFF);
    var tOther = target("q", otherPool.address(), check, PassiveEjectionConfig.OFF);
    HealthChecker.Plan plan = checker.prepare(List.of(tKept, tGone, tOther));
    plan.commit();
    long generation = plan.committedGeneration();
    ServerState keptState = plan.states().get(tKept.key());

    Map<ServerKey, ServerState> now =
        checker.updatePool("p", List.of(tKept, tAdded), generation).orElseThrow();
    assertThat(now.get(tKept.key())).isSameAs(keptState);
    assertThat(checker.state(tGone.key())).as("a gone server loses its state").isEmpty();
    assertThat(checker.state(tOther.key())).as("another pool is untouched").isPresent();
    // The added server has a monitor of its own: initial = down, up after its first probe.
    await(now.get(tAdded.key()), true, 2000);
    int probes = gone.answered.get();
    awaitAnswers(added, added.answered.get() + 2);
    assertThat(gone.answered.get()).as("the gone server's monitor stopped").isLessThan(probes + 2);

    checker.prepare(List.of(tKept)).commit(); // a reload
    assertThat(checker.updatePool("p", List.of(tKept, tAdded), generation)).isEmpty();
    assertThat(checker.state(tAdded.key())).isEmpty();
  }

  @Test
  void aPreparedPlanChangesNothingUntilCommittedAndAStalePlanIsRefused() throws Exception {
    FakeBackend kept = backend();
    FakeBackend dropped = backend();
    FakeBackend added = backend();
    var tKept =
        target("p", kept.address(), Optional.of(check(Type.TCP, 1, 1)), PassiveEjectionConfig.OFF);
    var tDropped =
        target(
            "p", dropped.address(), Optional.of(check(Type.TCP, 1, 1)), PassiveEjectionConfig.OFF);
    var tAdded = target("p", added.address(), Optional.empty(), PassiveEjectionConfig.OFF);
    Map<ServerKey, ServerState> inForce = checker.apply(List.of(tKept, tDropped));
    await(inForce.get(tDropped.key()), true, 2000);

    HealthChecker.Plan abandoned = checker.prepare(List.of(tKept, tAdded));
    assertThat(abandoned.states().get(tKept.key())).isSameAs(inForce.get(tKept.key()));
    assertThat(checker.state(tAdded.key())).as("not followed before commit").isEmpty();
    assertThat(checker.state(tDropped.key())).containsSame(inForce.get(tDropped.key()));

    // The dropped server is still probed: a failure is seen.
    dropped.close();
    await(inForce.get(tDropped.key()), false, 2000);

    HealthChecker.Plan next = checker.prepare(List.of(tKept, tAdded));
    next.commit();
    assertThat(checker.state(tAdded.key())).containsSame(next.states().get(tAdded.key()));
    assertThat(checker.state(tDropped.key())).isEmpty();
    assertThatThrownBy(abandoned::commit).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void maxConnectionsIsEnforcedAtomically() {
    ServerState s =
        new ServerState(
            new ServerKey("p", new InetSocketAddress("127.0.0.1", 1)), "x", true, System::nanoTime);
    assertThat(s.tryAcquire(2)).isTrue();
    assertThat(s.tryAcquire(2)).isTrue();
    assertThat(s.tryAcquire(2)).isFalse();
    s.release();
    assertThat(s.tryAcquire(2)).isTrue();
    assertThat(s.activeConnections()).isEqualTo(2);
  }
}
