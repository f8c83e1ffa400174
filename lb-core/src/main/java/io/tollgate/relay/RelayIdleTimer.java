package io.tollgate.relay;

import io.netty.channel.Channel;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.util.concurrent.ScheduledFuture;
import io.tollgate.connection.CloseReason;
import java.util.concurrent.TimeUnit;

/**
 * The idle timeout of one relayed connection, one timer for both of its channels: the session ends
 * with {@code idle_timeout} once nothing moved for the timeout, neither a read on either side nor
 * progress of the bytes queued toward either side (a slow reader that drains is not idle).
 *
 * <p>Why not Netty's {@code IdleStateHandler} on each channel: that is two handlers, two contexts
 * and two timers per connection, kept for its whole life, and a new promise and listener call per
 * relayed write; this is one timer and a timestamp written per read. It runs until both channels
 * are closed, so a side left flushing to a peer that stopped reading is bounded too.
 *
 * <p>Confined to the connection's event loop.
 */
final class RelayIdleTimer implements Runnable {
  private final Channel client;
  private final Channel backend;
  private final RelaySession session;
  private final long timeoutNanos;
  private long lastActivityNanos;

  /** What was queued toward each side at the last check (see {@link #outputState}). */
  private long clientOutput;

  private long backendOutput;
  private ScheduledFuture<?> timer;
  private boolean stopped;

  RelayIdleTimer(RelaySession session, Channel client, Channel backend, long timeoutNanos) {
    this.session = session;
    this.client = client;
    this.backend = backend;
    this.timeoutNanos = timeoutNanos;
  }

  /** Starts counting now. */
  void start() {
    lastActivityNanos = System.nanoTime();
    schedule(timeoutNanos);
  }

  /** Bytes were read on one side. */
  void activity() {
    lastActivityNanos = System.nanoTime();
  }

  /** Both channels closed: drop the timer now, not a timeout later. Idempotent. */
  void stop() {
    stopped = true;
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
  }

  @Override
  public void run() {
    timer = null;
    if (stopped) {
      return;
    }
    long now = System.nanoTime();
    long left = timeoutNanos - (now - lastActivityNanos);
    if (left > 0) {
      schedule(left);
      return;
    }
    long clientNow = outputState(client);
    long backendNow = outputState(backend);
    if (clientNow != clientOutput || backendNow != backendOutput) {
      // Queued bytes moved (a slow reader draining): activity, though nothing was read.
      clientOutput = clientNow;
      backendOutput = backendNow;
      lastActivityNanos = now;
      schedule(timeoutNanos);
      return;
    }
    session.close(CloseReason.IDLE_TIMEOUT);
  }

  private void schedule(long delayNanos) {
    timer = client.eventLoop().schedule(this, delayNanos, TimeUnit.NANOSECONDS);
  }

  /**
   * A summary of what waits in {@code ch}'s outbound buffer: it changes when the head message
   * changes, its written part grows or the pending total changes (as Netty's IdleStateHandler
   * observes output). 0 when nothing is queued.
   */
  private static long outputState(Channel ch) {
    ChannelOutboundBuffer buf = ch.unsafe().outboundBuffer();
    if (buf == null) {
      return 0;
    }
    Object current = buf.current();
    if (current == null) {
      return 0;
    }
    long state = System.identityHashCode(current);
    state = state * 31 + buf.currentProgress();
    return state * 31 + buf.totalPendingWriteBytes();
  }
}
