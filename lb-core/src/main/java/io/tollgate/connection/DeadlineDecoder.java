package io.tollgate.connection;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * A decoder that must finish its job (read a PROXY header, a ClientHello) within a time of its
 * channel being active, the base of the handlers that stand first on a client channel. The timer
 * starts once the decoder is in the pipeline of an active channel (whichever of {@code
 * handlerAdded} and {@code channelActive} comes second) and stops for good at {@link #finish}, when
 * the channel goes inactive or when the decoder leaves the pipeline. When it runs out, {@link
 * #deadlineExpired} is called on the channel's event loop, once, and only if the job is not
 * finished and the decoder is still in the pipeline.
 *
 * <p>Stateful: one instance per channel, used on its event loop only.
 */
public abstract class DeadlineDecoder extends ByteToMessageDecoder {
  private final long deadlineMillis;
  private Future<?> timer;

  /** Set once the outcome is known or the decoder left; guards the single outcome. */
  private boolean finished;

  /**
   * @param deadlineMillis how long the job may take once the channel is active; positive
   */
  protected DeadlineDecoder(long deadlineMillis) {
    if (deadlineMillis <= 0) {
      throw new IllegalArgumentException("deadlineMillis must be positive: " + deadlineMillis);
    }
    this.deadlineMillis = deadlineMillis;
  }

  /** The deadline ran out before the job was finished; typically: record why, and close. */
  protected abstract void deadlineExpired(ChannelHandlerContext ctx);

  /** The length of the deadline, for failure details. */
  protected final long deadlineMillis() {
    return deadlineMillis;
  }

  /** Whether the job's outcome is known (or the decoder left): nothing more to decode. */
  protected final boolean finished() {
    return finished;
  }

  /** The job's outcome is known: stops the timer, or keeps it from ever starting. Idempotent. */
  protected final void finish() {
    finished = true;
    if (timer != null) {
      timer.cancel(false);
    }
  }

  /** Starts the timer when added to a channel that is already active (e.g. an accepted child). */
  @Override
  public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
    super.handlerAdded(ctx);
    arm(ctx);
  }

  /** Starts the timer when added before the channel became active. */
  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    arm(ctx);
    super.channelActive(ctx);
  }

  /** Stops the timer, then lets the decoder see the end of input ({@code decodeLast}). */
  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    cancelTimer();
    super.channelInactive(ctx);
  }

  /** Removed (by itself once done, or by someone else): no outcome, no timer. */
  @Override
  protected void handlerRemoved0(ChannelHandlerContext ctx) throws Exception {
    finish();
  }

  private void arm(ChannelHandlerContext ctx) {
    if (timer == null && !finished && ctx.channel().isActive()) {
      timer = ctx.executor().schedule(() -> expired(ctx), deadlineMillis, TimeUnit.MILLISECONDS);
    }
  }

  private void cancelTimer() {
    if (timer != null) {
      timer.cancel(false);
    }
  }

  private void expired(ChannelHandlerContext ctx) {
    if (!finished && !ctx.isRemoved()) {
      deadlineExpired(ctx);
    }
  }
}
