package io.tollgate.listener;

import io.netty.channel.Channel;
import io.netty.util.concurrent.ScheduledFuture;
import io.tollgate.connection.CloseReason;
import io.tollgate.connection.Connection;
import java.util.concurrent.TimeUnit;

/**
 * {@code timeouts.max-lifetime}: closes a client connection that long after it was accepted,
 * whatever it is doing, with reason {@code max_lifetime}. Closing the client side ends the rest as
 * any client close does (a pending backend connect is cancelled, a relay closes the backend). The
 * timer is cancelled when the connection closes first, so a closed connection is not kept reachable
 * from the event loop's queue for the rest of the lifetime.
 */
final class MaxLifetime {
  private MaxLifetime() {}

  static void schedule(Channel ch, Connection conn, long millis) {
    ScheduledFuture<?> timer =
        ch.eventLoop()
            .schedule(
                () -> {
                  if (ch.isOpen()) {
                    conn.closeReason(CloseReason.MAX_LIFETIME, "open for " + millis + " ms");
                    ch.close();
                  }
                },
                millis,
                TimeUnit.MILLISECONDS);
    ch.closeFuture().addListener(f -> timer.cancel(false));
  }
}
