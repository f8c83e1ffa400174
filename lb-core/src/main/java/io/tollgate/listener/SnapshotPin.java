package io.tollgate.listener;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.AttributeKey;
import io.tollgate.snapshot.Snapshot;
import java.util.function.Supplier;

/**
 * On a listener's server channel: gives each channel it accepts the snapshot in force at that
 * moment, which {@link TollgateChannelInitializer} then pins on the connection's record.
 *
 * <p>Why at accept and not when the child is set up: the child's setup runs later, on its own event
 * loop. Accepting and closing a listener both happen on the listener's loop (a worker loop, or the
 * acceptor thread with {@code io.accept = thread}), and a reload swaps the snapshot only after the
 * listeners it removes are closed, so every connection a listener accepted gets a snapshot that has
 * this listener, even when its setup runs after the swap.
 */
@ChannelHandler.Sharable
final class SnapshotPin extends ChannelInboundHandlerAdapter {
  private static final AttributeKey<Snapshot> ACCEPTED_UNDER =
      AttributeKey.valueOf("tollgate.accepted-under");

  private final Supplier<Snapshot> current;

  SnapshotPin(Supplier<Snapshot> current) {
    this.current = current;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof Channel child) {
      child.attr(ACCEPTED_UNDER).set(current.get());
    }
    ctx.fireChannelRead(msg);
  }

  /** The snapshot {@code child} was accepted under; the attribute is removed, read it once. */
  static Snapshot take(Channel child) {
    return child.attr(ACCEPTED_UNDER).getAndRemove();
  }
}
