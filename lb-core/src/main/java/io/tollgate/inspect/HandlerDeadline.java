package io.tollgate.inspect;

import io.netty.channel.ChannelHandlerContext;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A deadline for a handler that must finish its job (read a header, a ClientHello) within a time
 * of its channel being active: armed once the handler is in the pipeline of an active channel
 * (call {@link #arm} from both {@code handlerAdded} and {@code channelActive}; whichever comes
 * second arms it), disarmed for good by {@link #cancel} when the job ends, the channel goes
 * inactive or the handler leaves. When it expires it calls {@code onExpiry} on the channel's event
 * loop, once, and only if it was not cancelled and the handler is still in the pipeline.
 *
 * <p>One per handler instance; used on the channel's event loop only. Shared by
 * {@link ClientHelloInspector} and the PROXY header reader that may stand before it.
 */
public final class HandlerDeadline {
  private final long millis;
  private final Consumer<ChannelHandlerContext> onExpiry;
  private Future<?> timer;
  private boolean cancelled;

  /**
   * @param timeoutMillis how long the handler has once its channel is active; must be positive
   * @param onExpiry what to do when that time has passed (typically: fail and close)
   */
  public HandlerDeadline(long timeoutMillis, Consumer<ChannelHandlerContext> onExpiry) {
    if (timeoutMillis <= 0) {
      throw new IllegalArgumentException("timeoutMillis must be positive: " + timeoutMillis);
    }
    this.millis = timeoutMillis;
    this.onExpiry = onExpiry;
  }

  /** The length of the deadline, for failure details. */
  public long millis() {
    return millis;
  }

  /** Starts the timer if the channel is active and it was neither started nor cancelled yet. */
  public void arm(ChannelHandlerContext ctx) {
    if (timer == null && !cancelled && ctx.channel().isActive()) {
      timer = ctx.executor().schedule(() -> expired(ctx), millis, TimeUnit.MILLISECONDS);
    }
  }

  /** Stops the timer, or keeps it from ever starting. Idempotent. */
  public void cancel() {
    cancelled = true;
    if (timer != null) {
      timer.cancel(false);
    }
  }

  private void expired(ChannelHandlerContext ctx) {
    if (!cancelled && !ctx.isRemoved()) {
      cancelled = true;
      onExpiry.accept(ctx);
    }
  }
}
