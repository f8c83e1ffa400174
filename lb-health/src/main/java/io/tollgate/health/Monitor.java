package io.tollgate.health;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import io.tollgate.config.HealthCheckConfig;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Probes one server on a schedule and applies rise/fall hysteresis to its {@link ServerState}.
 * Everything but {@link #stop} runs on the health event loop, so the counters need no locks.
 *
 * <p>Delays (each varied by {@code jitter}): {@code interval} while the server is steadily up,
 * {@code fast-interval} while its state is changing (up with failures, down with successes), {@code
 * down-interval} while it is steadily down.
 */
final class Monitor {
  private static final Logger log = LoggerFactory.getLogger("io.tollgate.health");

  private final ServerState state;
  private final HealthCheckConfig check;
  private final Probe probe;
  private final EventLoop loop;
  private final ProbeLimiter limiter;
  private final Random random;
  private int successes;
  private int failures;
  private int seenTransitions;

  /** Initial state down and no probe has passed yet: the first success is enough. */
  private boolean initialPending;

  private volatile boolean stopped;
  private ScheduledFuture<?> next;

  Monitor(
      ServerState state,
      HealthCheckConfig check,
      Probe probe,
      EventLoop loop,
      ProbeLimiter limiter,
      Random random,
      boolean initialPending) {
    this.state = state;
    this.check = check;
    this.probe = probe;
    this.loop = loop;
    this.limiter = limiter;
    this.random = random;
    this.initialPending = initialPending;
  }

  void start() {
    loop.execute(
        () -> {
          seenTransitions = state.transitions();
          // First probe soon, spread over the jitter window so a fresh start does not probe every
          // server of a large pool in the same millisecond.
          long window = check.interval().toNanos() * check.jitterPercent() / 100;
          schedule(window <= 0 ? 0 : (long) (random.nextDouble() * window));
        });
  }

  /** Later probes open TLS with {@code tls} (rebuilt by a reload); null keeps the current. */
  void useTls(ProbeTls tls) {
    probe.useTls(tls);
  }

  /** No more probes; a probe in flight finishes but its result is ignored. */
  void stop() {
    stopped = true;
    loop.execute(
        () -> {
          if (next != null) {
            next.cancel(false);
          }
        });
  }

  private void schedule(long delayNanos) {
    if (stopped) {
      return;
    }
    next = loop.schedule(() -> limiter.submit(this::probeNow), delayNanos, TimeUnit.NANOSECONDS);
  }

  private void probeNow() {
    if (stopped) {
      limiter.done();
      return;
    }
    probe
        .run(loop)
        .addListener(
            f -> {
              limiter.done();
              @SuppressWarnings("unchecked")
              Probe.Result r = (Probe.Result) f.getNow();
              onResult(r);
            });
  }

  private void onResult(Probe.Result r) {
    if (stopped) {
      return;
    }
    if (state.transitions() != seenTransitions) {
      // Someone else (passive ejection, a previous monitor) changed the state: count afresh.
      successes = 0;
      failures = 0;
    }
    String type = check.type().configName();
    if (r.ok()) {
      successes++;
      failures = 0;
      if (!state.isUp()) {
        if (initialPending) {
          state.markUp("first " + type + " check passed (" + r.detail() + ")", false);
        } else if (successes >= check.rise()) {
          state.markUp(
              type + " check passed " + successes + " time(s) in a row (" + r.detail() + ")", true);
        }
      }
      initialPending = false;
    } else {
      failures++;
      successes = 0;
      if (state.isUp() && failures >= check.fall()) {
        state.markDown(r.detail() + " (" + failures + " failed " + type + " check(s) in a row)");
      } else if (log.isDebugEnabled()) {
        log.debug(
            "pool {} server {}: {} check failed ({}), {} in a row",
            state.key().pool(),
            state.label(),
            type,
            r.detail(),
            failures);
      }
    }
    seenTransitions = state.transitions();
    schedule(jittered(nextInterval()));
  }

  private Duration nextInterval() {
    if (state.isUp()) {
      return failures > 0 ? check.fastInterval() : check.interval();
    }
    return successes > 0 ? check.fastInterval() : check.downInterval();
  }

  private long jittered(Duration d) {
    double spread = check.jitterPercent() / 100.0;
    double factor = 1 + spread * (random.nextDouble() * 2 - 1);
    return Math.max(1, (long) (d.toNanos() * factor));
  }
}
