package io.tollgate.handshake;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import io.tollgate.connection.CloseReason;
import io.tollgate.connection.Connection;
import io.tollgate.net.FailureKind;
import java.util.ArrayDeque;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import javax.net.ssl.SSLEngine;

/**
 * Stands in front of a terminated connection's server {@link SslHandler} until its handshake ends,
 * and lets each read through only when the connection's turn in its loop's {@link HandshakeQueue}
 * comes: the SslHandler's work on that read (key exchange, signature, certificate) is what the
 * queue rations. Reads stay off while the connection waits (the SslHandler asks for the next one
 * only after it has seen this one), so a waiting client costs what it sent, no more.
 */
public final class HandshakeGate extends ChannelInboundHandlerAdapter
    implements HandshakeQueue.Step, HandshakeThreads.Step {
  // The ClientHello step sent to a handshake thread: waiting for it, running there, or taken back
  // by the loop (it waited too long, or the client left). The thread and the loop claim a waiting
  // step by one compare-and-set, so exactly one of them goes on with it.
  private static final int HOME = 0;
  private static final int WAITING = 1;
  private static final int RUNNING = 2;
  private static final int RECLAIMED = 3;
  private static final AtomicIntegerFieldUpdater<HandshakeGate> STATE =
      AtomicIntegerFieldUpdater.newUpdater(HandshakeGate.class, "stepState");

  private final String route;
  private final SslHandler tls;
  private final HandshakeThreads threads;
  private ChannelHandlerContext ctx;
  private ArrayDeque<Object> held;
  private boolean queued;
  private boolean helloSeen;
  private boolean firstStepTaken;
  private boolean offLoop;
  private boolean inactivePending;
  private boolean readCompletePending;
  private boolean flushing;
  private boolean handshakeFailed;
  private volatile int stepState;
  // While a step is away: what it works on, and the timer that takes it back.
  private SSLEngine stepEngine;
  private ByteBuf[] stepInput;
  private ScheduledFuture<?> reclaim;

  /** The loop's queue the step comes back through (set on the loop when it leaves). */
  private HandshakeQueue home;

  /** When the step was sent to the threads. */
  private long stepSentAt;

  /** A gate for a connection of {@code route} whose server handshake {@code tls} runs. */
  public HandshakeGate(String route, SslHandler tls) {
    this(route, tls, null);
  }

  /**
   * As {@link #HandshakeGate(String, SslHandler)}; the ClientHello step runs on {@code threads}
   * (when not {@code null}) instead of the loop, later steps in the loop's queue.
   */
  public HandshakeGate(String route, SslHandler tls, HandshakeThreads threads) {
    this.route = route;
    this.tls = tls;
    this.threads = threads;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    // Leave once the handshake ended, either way: later reads cost what relaying costs.
    // This runs inside the SslHandler's decode of a read this gate let through (flushHeld):
    // nothing may be fired from here, the outer flushHeld finishes the job.
    tls.handshakeFuture()
        .addListener(
            f -> {
              handshakeFailed = !f.isSuccess();
              if (!ctx.isRemoved()) {
                ctx.pipeline().remove(this);
              }
            });
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (held == null) {
      held = new ArrayDeque<>(2);
    }
    held.addLast(msg);
    boolean first = !helloSeen;
    helloSeen = true;
    if (!queued) {
      queued = true;
      if (first && threads != null && threads.takes(ctx.channel().eventLoop()) && leaveLoop()) {
        return;
      }
      HandshakeQueue.of(ctx.channel().eventLoop()).add(route, this);
    }
  }

  /**
   * In a pause of the loop's paced queue: the ClientHello step goes to an idle handshake thread
   * ({@code handshake-threads-when = gaps}), as {@link #channelRead} sends it in the other modes.
   * Later steps (a client's Finished) cost little and stay in the queue.
   */
  @Override
  public boolean leaveForGap() {
    if (firstStepTaken
        || threads == null
        || !threads.takesInGap()
        || ctx.isRemoved()
        || !ctx.channel().isActive()) {
      return false;
    }
    firstStepTaken = true;
    return leaveLoop();
  }

  /**
   * Sends the ClientHello step to a handshake thread; the connection waits for it as it would in
   * the loop's queue (reads off, bytes held).
   */
  private boolean leaveLoop() {
    for (Object m : held) {
      if (!(m instanceof ByteBuf)) {
        return false;
      }
    }
    stepInput = held.toArray(new ByteBuf[0]);
    held.clear();
    offLoop = true;
    stepEngine = tls.engine();
    // The SslHandler releases its engine when the pipeline goes; the step keeps it until back.
    ReferenceCountUtil.retain(stepEngine);
    stepState = WAITING;
    stepSentAt = System.nanoTime();
    home = HandshakeQueue.of(ctx.channel().eventLoop());
    if (!threads.submit(route, this)) {
      stepState = HOME;
      restoreStepInput(0);
      return false;
    }
    armReclaim();
    return true;
  }

  private void armReclaim() {
    reclaim =
        ctx.channel()
            .eventLoop()
            .schedule(this::reclaim, threads.reclaimMillis(), TimeUnit.MILLISECONDS);
  }

  /** On a handshake thread: the ClientHello step, unless the loop took it back meanwhile. */
  @Override
  public boolean run() {
    if (!STATE.compareAndSet(this, WAITING, RUNNING)) {
      return false;
    }
    Throwable failure = null;
    int consumed = 0;
    ByteBuf flight = null;
    try {
      consumed = ClientHelloStep.run(stepEngine, stepInput);
      ClientHelloStep.Flight made = ClientHelloStep.drain(stepEngine, ctx.alloc());
      flight = made.bytes();
      failure = made.failure();
    } catch (Throwable t) {
      failure = t;
    }
    // More steps wait (a flood): the loop takes this one when it next wakes, for an event or for
    // the last step of the run, which wakes it. A thread that ran only while the loop slept would
    // otherwise wake it for every step: two thread switches each, measured at ~80 µs more of the
    // loop's CPU per flood connection on a 2-core VM. Bounded: this step's own reclaim timer stays
    // armed until the loop takes the step back, and wakes the loop at the latest (with several
    // loops, the last step of a run may be another's).
    home.handBack(new Done(consumed, failure, flight), threads.backlog() > 1);
    return true;
  }

  /** A finished ClientHello step on its way back to the loop. */
  private final class Done implements HandshakeQueue.Returned {
    private final int consumed;
    private final Throwable failure;
    private final ByteBuf flight;

    Done(int consumed, Throwable failure, ByteBuf flight) {
      this.consumed = consumed;
      this.failure = failure;
      this.flight = flight;
    }

    @Override
    public void backOnLoop() {
      HandshakeGate.this.backOnLoop(consumed, failure, flight);
    }

    @Override
    public void discard() {
      release(stepInput);
      ReferenceCountUtil.release(stepEngine);
      ReferenceCountUtil.release(flight);
    }
  }

  /**
   * The step waited its reclaim delay (100 ms) for a thread: if no thread finished a step meanwhile
   * (the loops keep every core busy, so a lowered thread gets no time), or it has waited {@link
   * HandshakeThreads#maxWaitNanos} in all, the loop's paced queue runs it instead.
   */
  private void reclaim() {
    reclaim = null;
    int state = stepState;
    if (state == RUNNING
        || (state == WAITING
            && !threads.stalled()
            && System.nanoTime() - stepSentAt < threads.maxWaitNanos())) {
      // Running, or done and handed back lazily: the timer keeps waking the loop until the step
      // is back (backOnLoop cancels it). Waiting behind steps the threads are working through:
      // wait on, up to maxWaitNanos (threads that get a trickle of CPU still finish a step now
      // and then, and the handshake timeout is too late a bound).
      armReclaim();
      return;
    }
    if (!STATE.compareAndSet(this, WAITING, RECLAIMED)) {
      if (stepState == RUNNING) {
        armReclaim(); // a thread took it just now: it comes back by itself, maybe lazily
      }
      return;
    }
    restoreStepInput(0);
    boolean ended = endedMeanwhile();
    threads.claimedByLoop(!ended);
    if (ended) {
      return;
    }
    // queued stays set: the connection waits for its turn as any other step.
    HandshakeQueue queue = HandshakeQueue.of(ctx.channel().eventLoop());
    queue.stepReclaimed();
    queue.add(route, this);
  }

  /**
   * Takes a waiting step back because its connection is ending (no thread runs it now).
   *
   * @return whether it was waiting
   */
  private boolean abandonWaitingStep() {
    if (!offLoop || !STATE.compareAndSet(this, WAITING, RECLAIMED)) {
      return false;
    }
    restoreStepInput(0);
    threads.claimedByLoop(false);
    return true;
  }

  /**
   * Ends the step's time away: gives the engine back and puts what it did not consume in front of
   * anything read meanwhile.
   */
  private void restoreStepInput(int consumed) {
    offLoop = false;
    if (reclaim != null) {
      reclaim.cancel(false);
      reclaim = null;
    }
    ReferenceCountUtil.release(stepEngine);
    stepEngine = null;
    ByteBuf[] taken = stepInput;
    stepInput = null;
    int skip = consumed;
    for (ByteBuf b : taken) {
      int n = Math.min(skip, b.readableBytes());
      b.skipBytes(n);
      skip -= n;
    }
    if (held == null) {
      held = new ArrayDeque<>(2);
    }
    for (int i = taken.length - 1; i >= 0; i--) {
      if (taken[i].isReadable()) {
        held.addFirst(taken[i]);
      } else {
        taken[i].release();
      }
    }
  }

  /**
   * Whether the connection ended while its step was away: then what it holds goes, and the end held
   * back meanwhile is passed on.
   */
  private boolean endedMeanwhile() {
    if (!ctx.isRemoved() && ctx.channel().isActive()) {
      return false;
    }
    releaseHeld();
    if (inactivePending && !ctx.isRemoved()) {
      inactivePending = false;
      ctx.fireChannelInactive();
    }
    return true;
  }

  /**
   * The ClientHello step is done: what the engine made goes to the client ({@code flight}, taken
   * out on the thread, or through the SslHandler), then the connection goes on.
   */
  private void backOnLoop(int consumed, Throwable failure, ByteBuf flight) {
    queued = false;
    restoreStepInput(consumed);
    if (endedMeanwhile()) {
      ReferenceCountUtil.release(flight);
      return;
    }
    flushing = true;
    try {
      if (flight != null) {
        // Written from in front of the SslHandler, so around it: the engine has handed these
        // bytes out already, and the SslHandler has nothing of its own to send before the
        // client's next flight (or, after an alert, the failure below ends the connection). A
        // failed write comes back as this gate's exceptionCaught.
        ctx.writeAndFlush(flight, ctx.voidPromise());
      } else {
        // The server's first flight, or an alert and the handshake's failure (BoringSSL keeps
        // the failure until its alert is out; a JDK engine throws, and its alert goes out here).
        ctx.channel().flush();
      }
    } finally {
      flushing = false;
    }
    if (failure != null && !handshakeFailed) {
      // Failed with nothing left to send: the PendingRelay logs why, as for a failed unwrap.
      releaseHeld();
      ctx.fireExceptionCaught(failure);
      ctx.close();
      return;
    }
    if (!handshakeFailed && held != null && !held.isEmpty() && !tls.handshakeFuture().isDone()) {
      // Bytes that came with the hello (a second hello after a retry request, say) are handshake
      // work too: they wait for the route's turn like any later step.
      queued = true;
      HandshakeQueue.of(ctx.channel().eventLoop()).add(route, this);
      return;
    }
    flushHeld();
  }

  private static void release(ByteBuf[] bufs) {
    for (ByteBuf b : bufs) {
      ReferenceCountUtil.release(b);
    }
  }

  /**
   * The client's end of stream (and any other event) waits behind the bytes held here, so the
   * handlers behind see it after the handshake records it followed: a client whose Finished is
   * still waiting for its turn has not ended its handshake early.
   */
  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (queued || offLoop || (held != null && !held.isEmpty())) {
      if (held == null) {
        held = new ArrayDeque<>(2);
      }
      held.addLast(new HeldEvent(evt));
    } else {
      ctx.fireUserEventTriggered(evt);
    }
  }

  /** An event held in order with the bytes (not a read). */
  private record HeldEvent(Object evt) {}

  private static void release(Object held) {
    ReferenceCountUtil.release(held instanceof HeldEvent e ? e.evt() : held);
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    if (queued) {
      // The SslHandler would ask for more; it does when it gets these bytes.
      readCompletePending = true;
    } else {
      ctx.fireChannelReadComplete();
    }
  }

  /** The connection's turn: hands what it sent to the SslHandler, which does the work now. */
  @Override
  public void proceed() {
    queued = false;
    firstStepTaken = true;
    if (ctx.isRemoved() || !ctx.channel().isActive()) {
      releaseHeld();
      return;
    }
    flushHeld();
  }

  private void flushHeld() {
    if (flushing || held == null) {
      return;
    }
    flushing = true;
    try {
      Object msg;
      while ((msg = held.pollFirst()) != null) {
        if (handshakeFailed || !ctx.channel().isActive()) {
          // The SslHandler has failed the handshake and closes the channel: nobody reads this.
          release(msg);
        } else if (msg instanceof HeldEvent e) {
          ctx.fireUserEventTriggered(e.evt());
        } else {
          ctx.fireChannelRead(msg);
        }
      }
      if (readCompletePending) {
        readCompletePending = false;
        if (!handshakeFailed && ctx.channel().isActive()) {
          ctx.fireChannelReadComplete();
        }
      }
    } finally {
      flushing = false;
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (!FailureKind.of(cause).socket()) {
      ctx.fireExceptionCaught(cause);
      return;
    }
    // The client reset in the middle of its handshake (a hello flood's every connection does):
    // nothing can be sent to it any more, so close here, in front of the SslHandler, whose own
    // close would first make a close_notify, try to write it and arm a timer for it. Its
    // channelInactive still fails the handshake, which gives back what the handshake held.
    Connection conn = Connection.of(ctx.channel());
    if (conn != null) {
      conn.closeReason(CloseReason.CLIENT_RESET, cause.getMessage());
    }
    releaseHeld();
    ctx.close();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    // Left before a thread took its step: nothing runs it now, its input goes with the rest.
    abandonWaitingStep();
    releaseHeld();
    if (offLoop) {
      // The SslHandler's reaction takes the engine's lock, which the step on a handshake thread
      // of lower priority holds: passed on once the step is back, so this loop never waits for
      // that thread. (If the pipeline goes first, nobody behind needs it.)
      Connection conn = Connection.of(ctx.channel());
      if (conn != null) {
        conn.closeReason(CloseReason.CLIENT_CLOSED, "closed during the TLS handshake");
      }
      inactivePending = true;
      return;
    }
    ctx.fireChannelInactive();
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    if (flushing) {
      return; // the handshake ended in a read this gate passed on; flushHeld finishes
    }
    // Removed while the step waits for a thread (the handshake timed out, the channel closes):
    // its input comes back here and goes below, with the rest.
    abandonWaitingStep();
    // Removed while holding (the handshake timed out while waiting, or the channel is closing):
    // bytes after a successful handshake belong to the handlers behind; otherwise nobody's.
    if (!handshakeFailed && ctx.channel().isActive()) {
      flushHeld();
    } else {
      releaseHeld();
    }
  }

  private void releaseHeld() {
    if (held != null) {
      Object msg;
      while ((msg = held.pollFirst()) != null) {
        release(msg);
      }
    }
    readCompletePending = false;
  }
}
