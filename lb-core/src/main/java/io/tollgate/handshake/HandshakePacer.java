package io.tollgate.handshake;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.EventExecutorGroup;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The handshake time of the worker loops of one event-loop group, counted against the cores they
 * can run on: while other work is routed, queued handshakes of all of them together take at most
 * {@code limits.handshake-share-percent} of {@code min(cores, loops)} cores.
 *
 * <p>Why one ledger for the group and not one per loop: with more loops than cores (two workers
 * pinned to one core, a container's CPU quota), a loop pacing itself to half of its time does not
 * leave its core half free: the kernel runs the other loop's handshakes in that pause, and another
 * tenant's connection on the first loop waits for a time slice instead of for a handshake. With a
 * core per loop the ledger gives each loop its share, as a per-loop pause would.
 *
 * <p>The ledger is a virtual clock: every turn moves it on by what the turn took, scaled up by the
 * share and the cores (a 200 µs turn at 50% on one core moves it by 400 µs); a paced turn may start
 * only once the clock is not ahead of real time. Turns that were not paced move it too (their loop
 * had no other work, but another loop of the group may), to at most one scaled turn beyond real
 * time, so a loop that ran unpaced for a while does not owe a long pause when pacing starts.
 */
final class HandshakePacer {
  /** How long other work routed on a loop keeps its handshake turns paced. */
  static final long OTHERS_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

  private static final Map<EventExecutorGroup, HandshakePacer> BY_GROUP = new WeakHashMap<>();

  private final int slots;
  private final boolean sharesCores;
  private final AtomicLong clock = new AtomicLong(Long.MIN_VALUE / 2);
  private volatile int sharePercent = 100;

  /** When any loop of the group last routed other work; kept only when loops share cores. */
  private volatile long othersAt = Long.MIN_VALUE / 2;

  /**
   * @param cores cores the group's loops can run on
   * @param loops loops in the group
   */
  HandshakePacer(int cores, int loops) {
    this.slots = Math.max(1, Math.min(cores, loops));
    this.sharesCores = loops > slots;
  }

  /** The pacer of {@code loop}'s group: {@code min(available processors, loops in the group)}. */
  static HandshakePacer of(EventLoop loop) {
    EventExecutorGroup group = loop.parent();
    if (group == null) {
      return new HandshakePacer(1, 1);
    }
    synchronized (BY_GROUP) {
      return BY_GROUP.computeIfAbsent(group, g -> new HandshakePacer(cores(), executors(g)));
    }
  }

  private static int cores() {
    // The JVM's count follows the affinity mask (taskset) and a container's CPU quota.
    return Runtime.getRuntime().availableProcessors();
  }

  private static int executors(EventExecutorGroup group) {
    int n = 0;
    for (EventExecutor ignored : group) {
      n++;
    }
    return n;
  }

  /** Cores the group's loops can use at once (tests). */
  int slots() {
    return slots;
  }

  /**
   * A loop of the group routed other work at {@code now}, with {@code percent} the share of the
   * config it was routed with. Written only when it changes something (every passthrough connection
   * of every loop calls this).
   */
  void otherWork(int percent, long now) {
    if (percent != sharePercent) {
      sharePercent = percent;
    }
    if (sharesCores && now - othersAt > OTHERS_NANOS / 50) {
      othersAt = now;
    }
  }

  /**
   * Whether a loop of the group that shares its core with another routed other work lately: then
   * every loop's handshakes are paced, since any of them delays it.
   */
  boolean othersOnSharedCores(long now) {
    return sharesCores && now - othersAt < OTHERS_NANOS;
  }

  int sharePercent() {
    return sharePercent;
  }

  /** How long a paced turn that wants to start at {@code now} must still wait (0: start now). */
  long waitBefore(long now) {
    return Math.max(0, clock.get() - now);
  }

  /**
   * A turn ran from {@code start} to {@code end}: the clock moves on by its scaled cost. A turn
   * that was not paced leaves the clock at most one such cost ahead of real time.
   */
  void spent(long start, long end, boolean paced) {
    int share = sharePercent;
    long cost = (end - start) * 100 / ((long) share * slots);
    long v;
    long next;
    do {
      v = clock.get();
      next = Math.max(v, start) + cost;
      if (!paced) {
        next = Math.min(next, end + cost);
      }
    } while (!clock.compareAndSet(v, next));
  }
}
