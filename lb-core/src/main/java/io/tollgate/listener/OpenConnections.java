package io.tollgate.listener;

import io.netty.channel.Channel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.tollgate.connection.CloseReason;
import io.tollgate.connection.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Every client connection open now, for the shutdown drain: a channel joins when its listener sets
 * it up and leaves when it closes.
 */
public final class OpenConnections {
  private final ChannelGroup channels =
      new DefaultChannelGroup("tollgate-connections", GlobalEventExecutor.INSTANCE);

  void add(Channel channel) {
    channels.add(channel);
  }

  public int size() {
    return channels.size();
  }

  /**
   * Waits until no connection is open, {@code limit} has passed or {@code stop} completes,
   * whichever comes first, woken by the closes themselves (no polling). An interrupt ends the wait
   * too, with the thread's interrupt flag set again.
   *
   * @return whether every connection has closed
   */
  public boolean awaitClosed(Duration limit, CompletableFuture<?> stop) {
    long deadline = System.nanoTime() + limit.toNanos();
    while (!channels.isEmpty() && !stop.isDone()) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        break;
      }
      // Covers the channels open now. One accepted just before its listener closed may join
      // after this: the next round waits for it.
      CompletableFuture<Void> closed = new CompletableFuture<>();
      channels.newCloseFuture().addListener(f -> closed.complete(null));
      try {
        CompletableFuture.anyOf(closed, stop).get(left, TimeUnit.NANOSECONDS);
      } catch (TimeoutException | ExecutionException e) {
        break;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    return channels.isEmpty();
  }

  /**
   * Records {@code reason} on every open connection and closes it, each on its own event loop, then
   * waits up to a second for each to be closed.
   *
   * @return how many were open
   */
  public int closeAll(CloseReason reason, String detail) {
    List<Channel> left = new ArrayList<>(channels);
    for (Channel ch : left) {
      ch.eventLoop()
          .execute(
              () -> {
                Connection conn = Connection.of(ch);
                if (conn != null) {
                  conn.closeReason(reason, detail);
                }
                ch.close();
              });
    }
    for (Channel ch : left) {
      ch.closeFuture().awaitUninterruptibly(1, TimeUnit.SECONDS);
    }
    return left.size();
  }
}
