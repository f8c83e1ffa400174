package io.tollgate.handshake;

import io.netty.channel.EventLoop;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.tollgate.config.IoConfig.HandshakePriority;
import io.tollgate.config.IoConfig.HandshakeThreadsWhen;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Threads that run ClientHello steps (the key exchange and the signature, one BoringSSL call) away
 * from the event loops, at a lowered CPU priority (nice 19 or {@code SCHED_IDLE}, {@link
 * ThreadPriority}): the kernel preempts such a step whenever a loop has work, so another tenant's
 * connection does not wait behind one, and the steps take every cycle the loops leave.
 *
 * <p>Why threads and not pacing alone: a step cannot be interrupted once started, so a loop that
 * runs it itself can only keep other work from waiting by not starting one, and leaves its core
 * idle meanwhile. A thread the kernel preempts needs neither.
 *
 * <p>A step handed across threads costs two thread switches each way (~100 µs more CPU per
 * handshake on the 2-core VM this was measured on), so by default ({@code io.handshake-threads-when
 * = gaps}) a step leaves its loop only while it waits in the loop's paced queue and the queue
 * pauses for other tenants' work ({@link HandshakeQueue}): the loop still runs its share of the
 * steps, paced, and the threads run more in whatever time the loops leave. One tenant alone, or a
 * quiet node, keeps the loop's cheaper path. {@code contended} sends every step that competes with
 * other work ({@link HandshakeQueue#contended}); {@code always} every step.
 *
 * <p>Threads whose priority could not be lowered are not used: at the loops' own priority a step
 * would take time slices from them, which is worse than the loop's paced queue. A step that waited
 * {@link #RECLAIM_MILLIS} while no thread finished a step (the loops keep every core busy, so a
 * lowered thread never runs) is taken back by its loop ({@link HandshakeGate}), into the paced
 * queue. A step that waits behind others while the threads work through them is only queued: the
 * flood it belongs to is served at the speed the idle cores allow, and taking its steps back to the
 * loops would hand the flood the loops' priority again (measured: with a reclaim after any 100 ms
 * wait, two thirds of a flood's steps ran on the loop, in bursts a second long).
 *
 * <p>Work waits in one FIFO per route, served round-robin (one step per route in turn), so a
 * flooded route's steps do not delay another route's more than one step each.
 */
public final class HandshakeThreads implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(HandshakeThreads.class);
  private static final AtomicInteger POOLS = new AtomicInteger();

  /**
   * How long a step may wait for a thread, while no thread finishes one, before its loop takes it
   * back (tests change it with the {@code tollgate.handshake.reclaimMillis} property, read when a
   * pool starts).
   */
  public static final long RECLAIM_MILLIS = 100;

  /**
   * After a loop took a step back, how long it keeps its new steps in its own paced queue (the
   * threads were starved: sending more would make each wait out the delay first). Tests change it
   * with {@code tollgate.handshake.reclaimBackoffMillis}.
   */
  public static final long RECLAIM_BACKOFF_MILLIS = 1000;

  /**
   * With {@code handshake-threads-when = gaps}: steps a thread may hold at once, running or next.
   * Two, so a thread that finishes one in the loop's pause goes on with the next without waiting
   * for the loop to hand it over; no more, so steps stay in the loop's queue, served by its turns,
   * rather than waiting for a thread the loops may not leave any time to.
   */
  static final int GAP_DEPTH = 2;

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition ready = lock.newCondition();
  private final RoundRobinByRoute<Step> queue = new RoundRobinByRoute<>();
  private final Thread[] threads;
  private final HandshakePriority level;
  private final HandshakeThreadsWhen when;
  private final AtomicInteger lowered = new AtomicInteger();

  /** Steps sent and not yet claimed back by their loop or finished by a thread. */
  private final AtomicInteger backlog = new AtomicInteger();

  private final long reclaimMillis =
      Math.max(1, Long.getLong("tollgate.handshake.reclaimMillis", RECLAIM_MILLIS));

  /**
   * After a loop took a step back, how long its steps stay on it ({@link #RECLAIM_BACKOFF_MILLIS}).
   */
  private final long backoffNanos =
      TimeUnit.MILLISECONDS.toNanos(
          Math.max(
              0, Long.getLong("tollgate.handshake.reclaimBackoffMillis", RECLAIM_BACKOFF_MILLIS)));

  private final LongAdder stepsRun = new LongAdder();
  private final LongAdder stepsReclaimed = new LongAdder();
  private volatile boolean usable;
  private volatile boolean closed;

  /** When a thread last finished a step (or the pool started). */
  private volatile long progressAt = System.nanoTime();

  /**
   * Starts {@code count} threads, each lowering its own priority to {@code level} first.
   *
   * @param count threads, at least 1
   * @param when which ClientHello steps go to the threads
   */
  public HandshakeThreads(int count, HandshakePriority level, HandshakeThreadsWhen when) {
    if (count < 1) {
      throw new IllegalArgumentException("count must be >= 1");
    }
    this.level = level;
    this.when = when;
    this.threads = new Thread[count];
    int pool = POOLS.incrementAndGet();
    for (int i = 0; i < count; i++) {
      Thread t = new Thread(this::serve, "tollgate-handshake-" + pool + "-" + i);
      t.setDaemon(true);
      threads[i] = t;
      t.start();
    }
  }

  /** Threads in the pool. */
  public int size() {
    return threads.length;
  }

  /** The priority the threads asked for. */
  public HandshakePriority level() {
    return level;
  }

  /** Threads whose priority is lowered so far (the others run at the loops' priority). */
  public int lowered() {
    return lowered.get();
  }

  /** Whether every thread runs at the lowered priority; until then no step is sent. */
  public boolean usable() {
    return usable;
  }

  /**
   * Whether the ClientHello step of a connection on {@code loop}, the calling thread's, should run
   * here rather than on the loop.
   */
  boolean takes(EventLoop loop) {
    return usable
        && switch (when) {
          case ALWAYS -> true;
          case CONTENDED -> HandshakeQueue.of(loop).contended(backlog.get(), backoffNanos);
          case GAPS -> false;
        };
  }

  /**
   * Whether a step waiting in a loop's paced queue during its pause should come here ({@code
   * handshake-threads-when = gaps}): while the threads hold fewer than {@link #GAP_DEPTH} steps
   * each.
   */
  boolean takesInGap() {
    return usable
        && when == HandshakeThreadsWhen.GAPS
        && backlog.get() < threads.length * GAP_DEPTH;
  }

  /** Which ClientHello steps come here. */
  public HandshakeThreadsWhen when() {
    return when;
  }

  /** Steps run so far, and the steps waiting, for Prometheus. */
  public void registerMetrics(PrometheusRegistry registry) {
    CounterWithCallback.builder()
        .name("tollgate_handshake_thread_steps_total")
        .help("ClientHello steps run on io.handshake-threads instead of an event loop")
        .callback(cb -> cb.call(stepsRun.sum()))
        .register(registry);
    GaugeWithCallback.builder()
        .name("tollgate_handshake_thread_steps_waiting")
        .help("ClientHello steps sent to io.handshake-threads, waiting or running")
        // The backlog, not the queue's size: reading that takes the lock a loop only tries for.
        .callback(cb -> cb.call(backlog()))
        .register(registry);
    CounterWithCallback.builder()
        .name("tollgate_handshake_thread_steps_reclaimed_total")
        .help(
            "ClientHello steps that waited 100 ms for io.handshake-threads while none finished a"
                + " step, or 1 s in all, and went back to their event loop's paced queue")
        .callback(cb -> cb.call(stepsReclaimed.sum()))
        .register(registry);
  }

  /** Steps run so far. */
  public long stepsRun() {
    return stepsRun.sum();
  }

  /** Steps their loops took back after waiting {@link #RECLAIM_MILLIS} so far. */
  public long stepsReclaimed() {
    return stepsReclaimed.sum();
  }

  /** How long a step may wait for a thread before its loop takes it back. */
  long reclaimMillis() {
    return reclaimMillis;
  }

  /**
   * Whether no thread finished a step in the last {@link #reclaimMillis}: they are starved (or one
   * step runs that long), not merely working through a backlog.
   */
  boolean stalled() {
    return System.nanoTime() - progressAt >= TimeUnit.MILLISECONDS.toNanos(reclaimMillis);
  }

  /**
   * The longest a step waits for a thread even while they make progress: ten reclaim delays (1 s),
   * well inside any handshake timeout, so threads that get only a trickle of CPU cannot make a
   * flood's steps wait until their connections time out.
   */
  long maxWaitNanos() {
    return TimeUnit.MILLISECONDS.toNanos(reclaimMillis * 10);
  }

  /**
   * A loop took a waiting step back: {@code timedOut} after {@link #reclaimMillis} (counted), or
   * because its connection ended.
   */
  void claimedByLoop(boolean timedOut) {
    backlog.decrementAndGet();
    if (timedOut) {
      stepsReclaimed.increment();
    }
  }

  /**
   * Queues {@code step} behind {@code route}'s earlier ones; refused once closed, and when a thread
   * holds the queue's lock at that moment (the caller, a loop, then runs the step itself: a thread
   * of lowered priority preempted inside that short section would otherwise make the loop wait
   * until the kernel runs it again).
   */
  public boolean submit(String route, Step step) {
    if (!lock.tryLock()) {
      return false;
    }
    try {
      if (closed) {
        return false;
      }
      queue.add(route, step);
      backlog.incrementAndGet();
      ready.signal();
      return true;
    } finally {
      lock.unlock();
    }
  }

  /** Steps sent and not yet finished or taken back (running ones too); reads no lock. */
  public int backlog() {
    return backlog.get();
  }

  /** Entries in the queue, over every route (taken-back steps too, until a thread drops them). */
  public int waiting() {
    lock.lock();
    try {
      return queue.size();
    } finally {
      lock.unlock();
    }
  }

  private Step take() throws InterruptedException {
    lock.lock();
    try {
      while (queue.isEmpty()) {
        if (closed) {
          return null;
        }
        ready.await();
      }
      return queue.poll();
    } finally {
      lock.unlock();
    }
  }

  private void serve() {
    if (ThreadPriority.lowerCurrentThread(level) && lowered.incrementAndGet() == threads.length) {
      usable = true;
    }
    for (; ; ) {
      Step step;
      try {
        step = take();
      } catch (InterruptedException e) {
        if (closed) {
          return;
        }
        continue;
      }
      if (step == null) {
        return;
      }
      boolean ran = true;
      try {
        ran = step.run();
      } catch (Throwable t) {
        log.warn("handshake step failed outside its connection", t);
      }
      if (ran) {
        // A step its loop took back was taken off the backlog then.
        backlog.decrementAndGet();
        stepsRun.increment();
        progressAt = System.nanoTime();
      }
    }
  }

  /** Work for a handshake thread. */
  public interface Step {
    /**
     * Runs on a handshake thread.
     *
     * @return whether it did its work (false: its loop had taken it back meanwhile)
     */
    boolean run();
  }

  /**
   * Stops taking steps; the ones queued still run (each gives its connection back to its loop,
   * which releases what it holds), then the threads end.
   */
  @Override
  public void close() {
    lock.lock();
    try {
      closed = true;
      ready.signalAll();
    } finally {
      lock.unlock();
    }
  }
}
