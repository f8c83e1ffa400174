package io.tollgate.listener;

import io.netty.channel.Channel;
import io.netty.channel.IoHandle;
import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerContext;
import io.tollgate.connection.InputAfterFin;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * A wrapped Netty {@link IoHandler} that takes {@link InputAfterFin}'s marks: it keeps its loop's
 * registrations by the channel they serve and passes a mark to the channel's registration. What a
 * mark does is the transport's ({@link RearmingEpollIoHandler}, {@link
 * PollOutAfterFinIoUringHandler}). It also runs what a registration leaves for the loop's next
 * turn, before the loop waits: epoll's changes of interest, io_uring's kept hang-ups.
 *
 * @param <R> the subclass's registration
 */
abstract class MarkingIoHandler<R extends MarkingIoHandler.Marked> extends DelegatingIoHandler
    implements InputAfterFin.Reads {
  /** A registration that can be read under backpressure after its peer's FIN. */
  abstract static class Marked {
    /** Waiting in the loop's list for its next turn. */
    boolean waiting;

    abstract void backpressuredAfterFin(boolean backpressured);

    /** What {@link #atNextTurn(Marked)} left for the start of the loop's next turn. */
    abstract void onNextTurn();
  }

  /**
   * This loop's registrations by the channel's own handle ({@code channel.unsafe()}). Changed on
   * the loop's thread only.
   */
  private final Map<IoHandle, R> byHandle = new IdentityHashMap<>();

  /** Registrations with work for the loop's next turn, in the order they asked. */
  private final List<R> nextTurn = new ArrayList<>();

  private Thread loopThread;

  MarkingIoHandler(IoHandler netty) {
    super(netty);
  }

  @Override
  public void initialize() {
    super.initialize();
    loopThread = Thread.currentThread();
    InputAfterFin.install(this);
  }

  @Override
  public void backpressuredAfterFin(Channel channel, boolean backpressured) {
    R r = byHandle.get(channel.unsafe());
    if (r != null) {
      r.backpressuredAfterFin(backpressured);
    }
  }

  @Override
  public int run(IoHandlerContext context) {
    // Indexed: what runs here may leave more for this turn.
    for (int i = 0; i < nextTurn.size(); i++) {
      R r = nextTurn.get(i);
      r.waiting = false;
      r.onNextTurn();
    }
    nextTurn.clear();
    return netty.run(context);
  }

  /**
   * {@code registration} has work for the start of the loop's next turn, before the loop waits and
   * outside of any channel's own call (once however often it asks).
   */
  final void atNextTurn(R registration) {
    if (!registration.waiting) {
      registration.waiting = true;
      nextTurn.add(registration);
    }
  }

  /** Registrations waiting for the loop's next turn (tests; on the loop). */
  final int waitingForNextTurn() {
    return nextTurn.size();
  }

  /** {@code handle} is registered with {@code registration} (Netty registers on the loop). */
  final void track(IoHandle handle, R registration) {
    byHandle.put(handle, registration);
  }

  /**
   * {@code registration} of {@code handle} is cancelled. A channel cancels its registration on its
   * loop as it deregisters; the guard only keeps the map loop-confined should anything else ever
   * call this.
   */
  final void forget(IoHandle handle, R registration) {
    if (Thread.currentThread() == loopThread) {
      byHandle.remove(handle, registration);
    }
  }

  /** Registrations this loop knows by their channel (tests; on the loop). */
  final int registrations() {
    return byHandle.size();
  }
}
