package io.tollgate.listener;

import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Keeps one far-off timer in every event loop's timer queue, so that queue is never empty.
 *
 * <p>Why: under load every loop always has a timer queued (each connection's idle timer), so the
 * JIT compiles the loop's own code (Netty's {@code EpollIoHandler.run}, {@code runAllTasks}, the
 * timer queue's {@code peek} and {@code removeTyped}, the deadline arithmetic) for a non-empty
 * queue only, with the empty case left as an uncommon trap. The first lull that empties the queue
 * (the last connection of a burst closing) then throws that compiled code away, the loop runs
 * interpreted, and the compiler thread compiles it all again, on the loop's core, when traffic
 * returns: measured with {@code -XX:+PrintCompilation} and JFR's deoptimization events on the
 * shared harness's new-connection workload, the C2 thread took 17-29 µs of CPU per connection 25
 * and 40 s after the start (up to a tenth of the proxy's CPU per connection), recompiling exactly
 * those methods after each pause between runs. A timer that never fires in practice keeps the empty
 * case from ever happening, so the code compiled under load stays valid across lulls.
 *
 * <p>The timer is a no-op a year ahead that sets itself again when it runs. A side effect: a loop
 * with nothing to do now sleeps until its next event or task, where Netty woke an idle loop once a
 * second (its wait when no timer is queued); nothing of ours relied on that wake-up (the handshake
 * queue's lazily handed-back steps have their own reclaim timer). Shutdown cancels the timer with
 * every other one.
 */
final class LullGuard {
  private static final long DAYS_AHEAD = 365;

  private LullGuard() {}

  static <G extends EventLoopGroup> G install(G group) {
    for (EventExecutor loop : group) {
      arm(loop);
    }
    return group;
  }

  private static void arm(EventExecutor loop) {
    try {
      loop.schedule(() -> arm(loop), DAYS_AHEAD, TimeUnit.DAYS);
    } catch (RejectedExecutionException e) {
      // The loop is shutting down: nothing left to guard.
    }
  }
}
