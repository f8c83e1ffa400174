package io.tollgate.listener;

import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
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
 * shared harness's new-connection workload, the C2 thread still took 25-30 µs of CPU per connection
 * 40 s after the start (a tenth of the proxy's CPU per connection), recompiling exactly those
 * methods after each pause between runs. A timer that never fires keeps the empty case from ever
 * happening, so the code compiled under load stays valid across lulls.
 *
 * <p>The timer is a no-op a year ahead; a loop with nothing else to do still blocks in its poll
 * (Netty caps the wait at its own bound), and the queue holds one extra entry.
 */
final class LullGuard {
  private static final Runnable NOTHING = () -> {};

  private LullGuard() {}

  static <G extends EventLoopGroup> G install(G group) {
    for (EventExecutor loop : group) {
      loop.schedule(NOTHING, 365, TimeUnit.DAYS);
    }
    return group;
  }
}
