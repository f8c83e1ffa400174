package io.tollgate.accesslog;

import io.tollgate.connection.Connection;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.Marker;
import org.slf4j.MarkerFactory;

/**
 * Writes the access log line of a closed connection to the logger {@value #LOGGER}, at INFO. The
 * logger is off (it inherits the root's WARN) unless {@code access-log.path} turned it on
 * ({@link AccessLogOutput}) or the operator's own logback configuration did, so with the log off
 * a close costs one level check.
 *
 * <p>One per Tollgate. Its lines carry a marker of their own, so the output one Tollgate set up
 * takes only its lines when several run in one JVM (tests).
 */
public final class AccessLog {
  public static final String LOGGER = "tollgate.access";
  private static final Logger log = LoggerFactory.getLogger(LOGGER);
  private static final AtomicLong INSTANCES = new AtomicLong();

  private final Marker marker =
      MarkerFactory.getDetachedMarker("tollgate-" + INSTANCES.incrementAndGet());

  /** Logs {@code conn}, which has just closed. */
  public void closed(Connection conn, long nowNanos) {
    if (log.isInfoEnabled()) {
      log.info(marker, AccessLogLine.format(conn, nowNanos, Instant.now()));
    }
  }

  Marker marker() {
    return marker;
  }
}
