package io.tollgate.accesslog;

import io.tollgate.connection.Connection;
import java.time.Instant;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.Marker;
import org.slf4j.MarkerFactory;

/**
 * Writes the access log line of a closed connection to the logger {@value #LOGGER}, at INFO, from a
 * thread of its own. The logger is off (it inherits the root's WARN) unless {@code access-log.path}
 * turned it on ({@link AccessLogOutput}) or the operator's own logback configuration did, so with
 * the log off a close costs one level check.
 *
 * <p>The event loop only formats the line (bounded, see {@link AccessLogLine}) and offers it to a
 * bounded queue; one writer thread hands the lines to the logger. A slow or full disk therefore
 * never stalls a connection: when the queue is full the line is dropped and counted ({@code
 * tollgate_access_log_dropped_total}), and a warning says so at most every {@link
 * #WARN_EVERY_NANOS}. The queue holds {@value #DEFAULT_QUEUE} lines (a few MiB) unless the system
 * property {@value #QUEUE_PROPERTY} says otherwise.
 *
 * <p>One per Tollgate. Its lines carry a marker of their own, so the output one Tollgate set up
 * takes only its lines when several run in one JVM (tests).
 */
public final class AccessLog implements AutoCloseable {
  public static final String LOGGER = "tollgate.access";

  /** System property: lines the queue holds before dropping. */
  public static final String QUEUE_PROPERTY = "tollgate.access-log.queue";

  static final int DEFAULT_QUEUE = 16_384;
  static final long WARN_EVERY_NANOS = TimeUnit.SECONDS.toNanos(10);
  private static final Logger log = LoggerFactory.getLogger(LOGGER);
  private static final Logger ops = LoggerFactory.getLogger(AccessLog.class);
  private static final AtomicLong INSTANCES = new AtomicLong();

  /** Tells the writer to stop; compared by identity. */
  private static final String END = new String("end");

  private final Marker marker =
      MarkerFactory.getDetachedMarker("tollgate-" + INSTANCES.incrementAndGet());
  private final BlockingQueue<String> queue;
  private final Runnable onDrop;
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong lastWarnNanos = new AtomicLong(System.nanoTime() - WARN_EVERY_NANOS);
  private final Thread writer;

  /** False for {@link #discarding}: no line is formatted or written. */
  private final boolean writes;

  /** A log with the queue size of {@value #QUEUE_PROPERTY} (default {@value #DEFAULT_QUEUE}). */
  public AccessLog(Runnable onDrop) {
    this(Integer.getInteger(QUEUE_PROPERTY, DEFAULT_QUEUE), onDrop);
  }

  /**
   * @param capacity lines the queue holds before dropping, at least 1
   * @param onDrop called (on the event loop) for every dropped line, e.g. to count it
   */
  public AccessLog(int capacity, Runnable onDrop) {
    this.queue = new ArrayBlockingQueue<>(Math.max(1, capacity));
    this.onDrop = onDrop;
    this.writes = true;
    this.writer = new Thread(this::drain, "tollgate-access-log-" + INSTANCES.get());
    writer.setDaemon(true); // a writer stuck on a dead disk must not keep the JVM alive
    writer.start();
  }

  private AccessLog() {
    this.queue = new ArrayBlockingQueue<>(1);
    this.onDrop = () -> {};
    this.writes = false;
    this.writer = null;
  }

  /**
   * A log that writes nothing, whatever the logger's level: for connections that are not clients'
   * (the start-up warm-up), which must never show in the access log.
   */
  public static AccessLog discarding() {
    return new AccessLog();
  }

  /** Logs {@code conn}, which has just closed; never blocks. */
  public void closed(Connection conn, long nowNanos) {
    if (writes && log.isInfoEnabled()) {
      String line = AccessLogLine.format(conn, nowNanos, Instant.now());
      if (!queue.offer(line)) {
        dropped(nowNanos);
      }
    }
  }

  private void dropped(long nowNanos) {
    long total = dropped.incrementAndGet();
    onDrop.run();
    long last = lastWarnNanos.get();
    if (nowNanos - last >= WARN_EVERY_NANOS && lastWarnNanos.compareAndSet(last, nowNanos)) {
      ops.warn(
          "access log: the writer is behind (slow or full disk?), {} line(s) dropped so far"
              + " (tollgate_access_log_dropped_total)",
          total);
    }
  }

  private void drain() {
    try {
      while (true) {
        String line = queue.take();
        if (line == END) {
          return;
        }
        try {
          log.info(marker, line);
        } catch (RuntimeException e) {
          ops.warn("access log: writing a line failed: {}", e.toString());
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Writes what is queued and stops the writer, waiting at most a few seconds (a writer blocked on
   * a dead disk is left behind; it is a daemon thread).
   */
  @Override
  public void close() {
    if (writer == null) {
      return;
    }
    try {
      if (queue.offer(END, 2, TimeUnit.SECONDS)) {
        writer.join(TimeUnit.SECONDS.toMillis(3));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  Marker marker() {
    return marker;
  }
}
