package io.tollgate.listener;

import io.netty.channel.Channel;
import io.netty.channel.IoHandle;
import io.netty.channel.IoHandler;
import io.tollgate.connection.InputAfterFin;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * A wrapped Netty {@link IoHandler} that takes {@link InputAfterFin}'s marks: it keeps its loop's
 * registrations by the channel they serve and passes a mark to the channel's registration. What a
 * mark does is the transport's ({@link RearmingEpollIoHandler}, {@link
 * PollOutAfterFinIoUringHandler}).
 *
 * @param <R> the subclass's registration
 */
abstract class MarkingIoHandler<R extends MarkingIoHandler.Marked> extends DelegatingIoHandler
    implements InputAfterFin.Reads {
  /** A registration that can be read under backpressure after its peer's FIN. */
  interface Marked {
    void backpressuredAfterFin(boolean backpressured);
  }

  /**
   * This loop's registrations by the channel's own handle ({@code channel.unsafe()}). Changed on
   * the loop's thread only.
   */
  private final Map<IoHandle, R> byHandle = new IdentityHashMap<>();

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
