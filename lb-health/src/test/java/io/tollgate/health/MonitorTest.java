package io.tollgate.health;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.EventLoop;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.MockTicker;
import io.netty.util.concurrent.Ticker;
import io.tollgate.config.HealthCheckConfig;
import io.tollgate.config.HealthCheckConfig.Initial;
import io.tollgate.config.HealthCheckConfig.Type;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Rise/fall and the probe schedule, driven step by step: a scripted probe instead of the network,
 * and an embedded event loop whose clock moves only when the test moves it. No sockets, no sleeps;
 * every transition happens at a known probe.
 */
class MonitorTest {
  private static final Duration INTERVAL = Duration.ofSeconds(10);
  private static final int RISE = 2;
  private static final int FALL = 3;
  private static final Probe.Result OK = Probe.Result.ok("connected");
  private static final Probe.Result REFUSED = Probe.Result.fail("connect refused");

  private final MockTicker ticker = Ticker.newMockTicker();
  private final EmbeddedChannel channel = EmbeddedChannel.builder().ticker(ticker).build();
  private final ScriptedProbe probe = new ScriptedProbe(channel.eventLoop());
  private final HealthCheckConfig check =
      HealthCheckConfig.defaults(Type.TCP)
          .withTimings(INTERVAL, Duration.ofSeconds(1), RISE, FALL)
          .withStart(Initial.DOWN, 0, Optional.empty()); // no jitter: exact delays

  @AfterEach
  void tearDown() {
    channel.finishAndReleaseAll();
  }

  /** Answers each run with the next scripted result, at once, and notes the clock. */
  private final class ScriptedProbe implements Probe {
    private final EventLoop loop;
    final ArrayDeque<Result> script = new ArrayDeque<>();
    final List<Long> runAtNanos = new ArrayList<>();

    ScriptedProbe(EventLoop loop) {
      this.loop = loop;
    }

    @Override
    public Future<Result> run(EventLoop on) {
      assertThat(on).isSameAs(loop);
      runAtNanos.add(ticker.nanoTime());
      Result next = script.poll();
      return loop.newSucceededFuture(next != null ? next : Result.fail("script ran out"));
    }
  }

  private ServerState state(boolean up) {
    return new ServerState(
        new ServerKey("web", new InetSocketAddress("127.0.0.1", 8080)),
        "127.0.0.1:8080",
        up,
        ticker::nanoTime);
  }

  private Monitor start(ServerState state, boolean initialPending) {
    Monitor m =
        new Monitor(
            state,
            check,
            probe,
            channel.eventLoop(),
            new ProbeLimiter(1),
            new Random(1),
            initialPending);
    m.start();
    channel.runPendingTasks(); // start() and the first probe, due at once without jitter
    return m;
  }

  /** Moves the clock to the next scheduled probe and runs it; returns the wait before it. */
  private Duration nextProbe() {
    int before = probe.runAtNanos.size();
    long wait = channel.runScheduledPendingTasks();
    assertThat(wait).as("a probe is scheduled").isGreaterThan(0);
    ticker.advance(wait, TimeUnit.NANOSECONDS);
    channel.runPendingTasks();
    assertThat(probe.runAtNanos).hasSize(before + 1);
    return Duration.ofNanos(wait);
  }

  /** Scripts {@code results} and runs that many probes, the first already run by start. */
  private void probes(Probe.Result... results) {
    for (Probe.Result r : results) {
      probe.script.add(r);
      nextProbe();
    }
  }

  @Test
  void aDownServerRisesOnItsRiseThSuccessInARowNotBefore() {
    ServerState s = state(false);
    probe.script.add(REFUSED);
    start(s, false);
    assertThat(probe.runAtNanos).hasSize(1);
    assertThat(s.isUp()).isFalse();

    probes(OK);
    assertThat(s.isUp()).as("after %d of %d successes", 1, RISE).isFalse();
    probes(REFUSED, OK);
    assertThat(s.isUp()).as("a failure restarts the count").isFalse();
    probes(OK);
    assertThat(s.isUp()).isTrue();
    assertThat(s.reason()).isEqualTo("tcp check passed 2 time(s) in a row (connected)");
    assertThat(s.rampStartNanos()).as("slow start after a rise").isNotEqualTo(ServerState.NO_RAMP);
  }

  @Test
  void anUpServerFallsOnItsFallThFailureInARowNotBefore() {
    ServerState s = state(true);
    probe.script.add(OK);
    start(s, false);

    probes(REFUSED, REFUSED, OK, REFUSED, REFUSED);
    assertThat(s.isUp()).as("never %d failures in a row", FALL).isTrue();
    probes(REFUSED);
    assertThat(s.isUp()).isFalse();
    assertThat(s.reason()).isEqualTo("connect refused (3 failed tcp check(s) in a row)");
  }

  @Test
  void theFirstSuccessOfAServerThatStartedDownIsEnough() {
    ServerState s = state(false);
    probe.script.add(OK);
    start(s, true);
    assertThat(s.isUp()).isTrue();
    assertThat(s.reason()).isEqualTo("first tcp check passed (connected)");
    assertThat(s.rampStartNanos())
        .as("no slow start for the first check")
        .isEqualTo(ServerState.NO_RAMP);
  }

  @Test
  void probesComeEveryIntervalFasterWhileTheStateIsChangingAndSlowerWhileDown() {
    ServerState s = state(true);
    probe.script.add(OK);
    start(s, false);
    Duration fast = check.fastInterval();
    Duration down = check.downInterval();
    assertThat(fast).isLessThan(INTERVAL);
    assertThat(down).isGreaterThan(INTERVAL);

    probe.script.add(REFUSED);
    assertThat(nextProbe()).as("steadily up").isEqualTo(INTERVAL);
    probe.script.add(REFUSED);
    assertThat(nextProbe()).as("up, failing").isEqualTo(fast);
    probe.script.add(REFUSED);
    assertThat(nextProbe()).as("up, failing").isEqualTo(fast);
    assertThat(s.isUp()).isFalse();
    probe.script.add(OK);
    assertThat(nextProbe()).as("steadily down").isEqualTo(down);
    probe.script.add(OK);
    assertThat(nextProbe()).as("down, succeeding").isEqualTo(fast);
    assertThat(s.isUp()).isTrue();
    probe.script.add(OK);
    assertThat(nextProbe()).as("up again").isEqualTo(INTERVAL);
  }

  @Test
  void aTransitionFromElsewhereRestartsTheCount() {
    ServerState s = state(true);
    probe.script.add(REFUSED);
    start(s, false);
    probes(REFUSED);
    // Passive ejection takes it down and (say) brings it back between two probes.
    s.markDown("passive ejection");
    s.markUp("backoff elapsed", false);
    probes(REFUSED);
    assertThat(s.isUp()).as("two failures before the transition do not count").isTrue();
    probes(REFUSED, REFUSED);
    assertThat(s.isUp()).isFalse();
  }

  @Test
  void aStoppedMonitorProbesNoMore() {
    ServerState s = state(true);
    probe.script.add(OK);
    Monitor m = start(s, false);
    m.stop();
    channel.runPendingTasks();
    assertThat(channel.runScheduledPendingTasks()).as("nothing scheduled").isEqualTo(-1);
    ticker.advance(INTERVAL.multipliedBy(10).toNanos(), TimeUnit.NANOSECONDS);
    channel.runPendingTasks();
    assertThat(probe.runAtNanos).hasSize(1);
  }
}
