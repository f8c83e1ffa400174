package io.tollgate.handshake;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.AbstractEventExecutor;
import io.netty.util.concurrent.FastThreadLocal;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One event loop's queue of handshake steps waiting for CPU: a FIFO per route, served round-robin
 * (one step per route in turn), at most {@link #turnNanos} of handshake work per loop turn (at
 * least one step; a turn stops before a step that would go over the budget if it cost what the last
 * one did).
 *
 * <p>A turn ends by scheduling the next one with no delay. Netty moves scheduled tasks into the
 * task queue only at the start of a task phase, so the next turn runs after the loop's next I/O
 * pass: whatever became readable meanwhile (a passthrough hello, relayed bytes, an admin request)
 * waits for at most one budget of handshakes, not for every queued one. With nothing else to do the
 * loop comes straight back, so an idle node gives a flood all of its CPU.
 *
 * <p>While the loop also routes other work (a passthrough connection in the last {@link
 * HandshakePacer#OTHERS_NANOS}), handshake turns are paced to {@code
 * limits.handshake-share-percent} of its time: the next turn waits in proportion to what the last
 * one took, and whatever arrives meanwhile is served at once instead of behind a handshake. A
 * handshake step cannot be split (BoringSSL does a ClientHello's key exchange and signature in one
 * call), so pacing the steps is how the other tenants' connections get their share of the loop;
 * alone, the handshakes get all of it. The loops of one group keep that time in one {@link
 * HandshakePacer}, so loops sharing a core share one budget.
 *
 * <p>Loop-confined: created, filled and drained on its event loop's thread only, so no locks; the
 * one exception is {@link #handBack}, which the handshake threads call (a concurrent queue and a
 * flag, drained on the loop).
 */
public final class HandshakeQueue {
  private static final Logger log = LoggerFactory.getLogger(HandshakeQueue.class);

  /** Handshake work one loop turn may run before the loop looks at its sockets again. */
  static final long TURN_NANOS =
      TimeUnit.MICROSECONDS.toNanos(Long.getLong("tollgate.handshake.turnMicros", 250));

  /**
   * How long a step that went to the threads keeps the next ones going there with nothing waiting:
   * a flood's steps come well within it, a quiet node's handshakes do not.
   */
  static final long STAY_NANOS =
      TimeUnit.MILLISECONDS.toNanos(Long.getLong("tollgate.handshake.stayMillis", 10));

  private static final FastThreadLocal<HandshakeQueue> PER_LOOP =
      new FastThreadLocal<>() {
        @Override
        protected HandshakeQueue initialValue() {
          return new HandshakeQueue(TURN_NANOS);
        }
      };

  private final long turnNanos;
  private final RoundRobinByRoute<Step> waiting = new RoundRobinByRoute<>();
  private final Runnable turn = this::runTurn;

  private EventLoop loop;
  private HandshakePacer pacer;
  private boolean scheduled;
  private long othersAt = Long.MIN_VALUE / 2;

  /** The route of the last connection routed here, and when. */
  private String lastRoute;

  private long lastRouteAt = Long.MIN_VALUE / 2;

  /** When two routes' connections were last routed here within {@link #OTHERS_NANOS}. */
  private long otherRouteAt = Long.MIN_VALUE / 2;

  /** When this loop last took a step back from the handshake threads (they were starved). */
  private long reclaimedAt = Long.MIN_VALUE / 2;

  /** When {@link #contended} last answered yes here. */
  private long contendedAt = Long.MIN_VALUE / 2;

  /**
   * Steps the handshake threads finished, waiting for this loop to send what they made: filled by
   * those threads, emptied here, a budget per turn. A linked queue, not Netty's MPSC array queue:
   * that one's poll spins while a producer has claimed a slot but not yet filled it, and the
   * producers here run at a lowered priority, so a preempted one would keep the loop spinning (as
   * WorkerLoopGroup's task queue explains).
   */
  private final Queue<Returned> returned = new ConcurrentLinkedQueue<>();

  /** Whether a turn that empties {@link #returned} is on its way (set by whoever scheduled it). */
  private final AtomicBoolean returnTurnPending = new AtomicBoolean();

  private final Runnable returnTurn = this::runReturnTurn;

  /** Wakes a loop for the tasks queued without waking it. */
  private static final Runnable WAKE_UP = () -> {};

  HandshakeQueue(long turnNanos) {
    this.turnNanos = turnNanos;
  }

  /**
   * A queue for {@code loop} with its own budget and a pacer of its own (tests); production code
   * uses {@link #of}.
   */
  HandshakeQueue(EventLoop loop, long turnNanos) {
    this(loop, turnNanos, new HandshakePacer(1, 1));
  }

  /**
   * As {@link #HandshakeQueue(EventLoop, long)}, sharing {@code pacer} with other loops (tests).
   */
  HandshakeQueue(EventLoop loop, long turnNanos, HandshakePacer pacer) {
    this(turnNanos);
    this.loop = loop;
    this.pacer = pacer;
  }

  /** The queue of the calling event loop's thread. */
  static HandshakeQueue of(EventLoop loop) {
    HandshakeQueue queue = PER_LOOP.get();
    if (queue.pacer == null) {
      queue.pacer = HandshakePacer.of(loop);
    }
    queue.loop = loop;
    return queue;
  }

  /**
   * Other work (a passthrough connection) was routed on {@code loop}, the calling thread's: queued
   * handshakes take at most {@code sharePercent} of its time for the next {@link
   * HandshakePacer#OTHERS_NANOS}.
   */
  public static void otherWorkRouted(EventLoop loop, int sharePercent) {
    if (sharePercent < 100) {
      of(loop).otherWork(sharePercent);
    }
  }

  void otherWork(int sharePercent) {
    long now = System.nanoTime();
    othersAt = now;
    pacer.otherWork(sharePercent, now);
  }

  /**
   * A connection of {@code route} was routed on {@code loop}, the calling thread's (only called
   * with handshake threads): remembers when the loop last routed two routes' connections within
   * {@link HandshakePacer#OTHERS_NANOS} of each other, for {@link #contended}.
   */
  public static void routeSeen(EventLoop loop, String route) {
    HandshakeQueue queue = of(loop);
    long now = System.nanoTime();
    // Route names are the config's own strings: identity first, equals for a reloaded config.
    if (route != queue.lastRoute && !route.equals(queue.lastRoute)) {
      if (queue.lastRoute != null && now - queue.lastRouteAt < HandshakePacer.OTHERS_NANOS) {
        queue.otherRouteAt = now;
      }
      queue.lastRoute = route;
    }
    queue.lastRouteAt = now;
  }

  /**
   * Whether a new ClientHello step here competes with other work: two routes' connections were
   * routed on this loop within {@link HandshakePacer#OTHERS_NANOS} of each other, lately (or, with
   * loops sharing a core, a passthrough connection on any of them), and steps already wait, here or
   * for a handshake thread ({@code threadBacklog}), or one went to the threads in the last {@link
   * #STAY_NANOS} (a flood's 64 clients all waiting for their flights at one moment must not send
   * the next step to the loop, in front of the other tenant's work). One tenant alone, or a quiet
   * node, gets its steps run by the loop with no hand-off. Not within {@code backoffNanos} of a
   * step taken back from starved threads: while the loops keep every core busy, steps stay in the
   * loop's paced queue instead of each waiting out the reclaim delay first.
   */
  boolean contended(int threadBacklog, long backoffNanos) {
    long now = System.nanoTime();
    if (threadBacklog <= 0 && waiting.isEmpty() && now - contendedAt >= STAY_NANOS) {
      return false;
    }
    if (now - reclaimedAt < backoffNanos) {
      return false;
    }
    if (now - otherRouteAt < HandshakePacer.OTHERS_NANOS || pacer.othersOnSharedCores(now)) {
      contendedAt = now;
      return true;
    }
    return false;
  }

  /** A step of this loop waited too long for the handshake threads and was taken back. */
  void stepReclaimed() {
    reclaimedAt = System.nanoTime();
  }

  /** Whether a turn at {@code now} is paced: other work routed lately here (or on a core mate). */
  private boolean paced(long now) {
    return pacer.sharePercent() < 100
        && (now - othersAt < HandshakePacer.OTHERS_NANOS || pacer.othersOnSharedCores(now));
  }

  /** Steps waiting, over every route (for tests and metrics). */
  int waiting() {
    return waiting.size();
  }

  /** Routes with steps waiting (for tests). */
  int routes() {
    return waiting.routes();
  }

  /** Queues a connection's next handshake step behind its route's earlier ones. */
  void add(String route, Step step) {
    waiting.add(route, step);
    if (!scheduled) {
      scheduled = true;
      loop.schedule(turn, 0, TimeUnit.NANOSECONDS);
    }
  }

  private void runTurn() {
    scheduled = false;
    long start = System.nanoTime();
    if (paced(start)) {
      // Also a turn scheduled at once (a step queued meanwhile): the group's budget decides.
      long wait = pacer.waitBefore(start);
      if (wait > 0) {
        scheduled = true;
        loop.schedule(turn, wait, TimeUnit.NANOSECONDS);
        fillGap();
        return;
      }
    }
    long stepStart = start;
    Step step;
    while ((step = waiting.poll()) != null) {
      step.proceed();
      long now = System.nanoTime();
      // Stop before a step that would go over the budget if it cost what the last one did: a
      // turn of full handshakes (~200 µs each) is then one handshake, not two that take twice
      // the budget, while cheap steps (a client's Finished) still share one turn. Only a
      // single step ever goes over the budget.
      if (now - start + (now - stepStart) > turnNanos) {
        break;
      }
      stepStart = now;
    }
    long end = System.nanoTime();
    boolean paced = paced(end);
    pacer.spent(start, end, paced);
    if (!waiting.isEmpty() && !scheduled) {
      scheduled = true;
      long wait = paced ? pacer.waitBefore(end) : 0;
      loop.schedule(turn, wait, TimeUnit.NANOSECONDS);
      if (wait > 0) {
        fillGap();
      }
    }
  }

  /**
   * The loop pauses its paced turns with steps waiting: steps that can go to a handshake thread
   * ({@code handshake-threads-when = gaps}) go there now, in route order, while the threads take
   * them. Such a thread runs only in time no loop wants (its priority is {@code SCHED_IDLE} or nice
   * 19), so the pause stays free for the other tenants' work and what they leave of it serves the
   * waiting handshakes: the flood gets the rest of the core, not the share alone.
   */
  private void fillGap() {
    while (waiting.pollIf(Step::leaveForGap)) {
      // each step taken is on its way to a thread
    }
  }

  /**
   * On a handshake thread: hands a finished step back to this queue's loop. Steps come back in
   * turns of at most {@link #turnNanos} each, after which the loop looks at its sockets again, as
   * for the steps it runs itself: a flood's finished steps (each a flight to write) otherwise ran
   * as one task each, all of them before the loop's next I/O pass, and another tenant's event
   * waited behind every one.
   *
   * @param lazy whether the loop may take it when it next wakes for something else (more steps are
   *     on their way; the step's reclaim timer wakes it at the latest)
   */
  void handBack(Returned step, boolean lazy) {
    returned.offer(step);
    try {
      if (returnTurnPending.compareAndSet(false, true)) {
        if (lazy && loop instanceof AbstractEventExecutor l) {
          l.lazyExecute(returnTurn);
        } else {
          loop.execute(returnTurn);
        }
      } else if (!lazy) {
        // A turn is on its way and takes this one too, but maybe lazily: the last step of a run
        // wakes the loop for it, or the run waits for the loop's next event.
        loop.execute(WAKE_UP);
      }
    } catch (RejectedExecutionException e) {
      // The loop is gone (shutdown): nobody will take these back, so what they hold goes here
      // (and a later step, finding no turn pending, comes here too).
      returnTurnPending.set(false);
      Returned r;
      while ((r = returned.poll()) != null) {
        r.discard();
      }
    }
  }

  private void runReturnTurn() {
    // Cleared first: a step handed back from here on schedules a turn of its own.
    returnTurnPending.set(false);
    long start = System.nanoTime();
    Returned r;
    while ((r = returned.poll()) != null) {
      try {
        r.backOnLoop();
      } catch (Throwable t) {
        log.warn("a handshake step could not be taken back", t);
      }
      // A loop shutting down takes them all: it may cancel the turn scheduled for the rest.
      if (System.nanoTime() - start > turnNanos && !loop.isShuttingDown()) {
        break;
      }
    }
    if (!returned.isEmpty() && returnTurnPending.compareAndSet(false, true)) {
      // After the loop's next I/O pass, as the steps' own turns.
      loop.schedule(returnTurn, 0, TimeUnit.NANOSECONDS);
    } else if (scheduled && !waiting.isEmpty() && paced(System.nanoTime())) {
      // A step came back from a thread while the loop's turns pause: the thread can take more.
      fillGap();
    }
  }

  /** A step a handshake thread finished, to be taken back by its loop. */
  interface Returned {
    /** On the loop: sends what the step made and goes on with the connection. */
    void backOnLoop();

    /** The loop is gone: releases what the step holds. */
    void discard();
  }

  /** One connection's next piece of handshake work. */
  interface Step {
    /** Runs the work now, on the queue's event loop. */
    void proceed();

    /**
     * Sends the work to a handshake thread that is idle now, if it can go there.
     *
     * @return whether it went (then the queue forgets it)
     */
    default boolean leaveForGap() {
      return false;
    }
  }
}
