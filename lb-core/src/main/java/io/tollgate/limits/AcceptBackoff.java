package io.tollgate.limits;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.tollgate.metrics.Metrics;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * On a listener's server channel: when accepting fails (typically EMFILE, "too many open files"),
 * stops accepting for a moment instead of spinning on a socket that stays readable: reads (accepts)
 * off, back on after {@link #FIRST_PAUSE_MILLIS}, doubling on each failure in a row up to {@link
 * #MAX_PAUSE_MILLIS}. The first accept that succeeds ends the episode. Logs once when an episode
 * starts and once when it ends, whatever happens in between.
 *
 * <p>Replaces Netty's own reaction (ServerBootstrapAcceptor pauses a fixed second and passes the
 * error on) by not passing the exception further. One instance per server channel; everything runs
 * on that channel's event loop.
 */
public final class AcceptBackoff extends ChannelInboundHandlerAdapter {
  private static final Logger log = LoggerFactory.getLogger(AcceptBackoff.class);
  static final long FIRST_PAUSE_MILLIS = 100;
  static final long MAX_PAUSE_MILLIS = 1000;

  private final String listener;
  private final Metrics metrics;
  private long failuresInEpisode;
  private boolean paused;

  public AcceptBackoff(String listener, Metrics metrics) {
    this.listener = listener;
    this.metrics = metrics;
  }

  /** The pause after {@code failures} failed accepts in a row (1 for the first). */
  static long pauseMillis(long failures) {
    long pause = FIRST_PAUSE_MILLIS;
    for (long i = 1; i < failures && pause < MAX_PAUSE_MILLIS; i++) {
      pause *= 2;
    }
    return Math.min(pause, MAX_PAUSE_MILLIS);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    // An accepted child channel: accepting works (again).
    if (failuresInEpisode > 0 && !paused) {
      log.info(
          "listener {}: accepting again after {} failed accept(s)", listener, failuresInEpisode);
      failuresInEpisode = 0;
    }
    ctx.fireChannelRead(msg);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    metrics.acceptFailed(listener);
    failuresInEpisode++;
    if (failuresInEpisode == 1) {
      log.warn(
          "listener {}: accept failed ({}); pausing accepts, starting at {} ms and up to {} ms"
              + " while it keeps failing. If it says too many open files, raise the limit"
              + " (LimitNOFILE= in the systemd unit, ulimit -n) or lower limits.max-connections",
          listener,
          cause.toString(),
          FIRST_PAUSE_MILLIS,
          MAX_PAUSE_MILLIS);
    }
    if (paused) {
      return;
    }
    long pause = pauseMillis(failuresInEpisode);
    paused = true;
    ctx.channel().config().setAutoRead(false);
    ctx.channel()
        .eventLoop()
        .schedule(
            () -> {
              paused = false;
              if (ctx.channel().isOpen()) {
                ctx.channel().config().setAutoRead(true);
              }
            },
            pause,
            TimeUnit.MILLISECONDS);
  }

  /** Whether accepts are paused now (tests). */
  boolean paused() {
    return paused;
  }

  /** The pause the next failure would get (tests). */
  long nextPauseMillis() {
    return pauseMillis(failuresInEpisode + 1);
  }
}
