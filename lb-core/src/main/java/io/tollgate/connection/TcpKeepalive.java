package io.tollgate.connection;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelOption;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.socket.nio.NioChannelOption;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUringChannelOption;
import io.netty.channel.uring.IoUringSocketChannel;
import java.time.Duration;
import jdk.net.ExtendedSocketOptions;

/**
 * TCP keepalive as {@code timeouts.keepalive} asks: SO_KEEPALIVE, the first probe after {@code
 * idle} seconds without traffic, then one every {@code interval} (a third of idle, at least 1 s),
 * and the kernel resets the connection after {@code count} (3) unanswered ones, so a peer that
 * vanished is noticed within about twice the setting. The three timings are per socket
 * (TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT) on epoll and, through the JDK's extended socket
 * options, on NIO; nothing depends on the host's sysctl defaults (two hours).
 */
public record TcpKeepalive(int idleSeconds, int intervalSeconds, int count) {
  static final int PROBES = 3;

  /** The settings for {@code timeouts.keepalive}, or null when it is zero (off). */
  public static TcpKeepalive of(Duration keepalive) {
    if (keepalive.isZero()) {
      return null;
    }
    long ms = keepalive.toMillis();
    int idle = (int) Math.max(1, Math.min(Integer.MAX_VALUE / 1000, (ms + 999) / 1000));
    return new TcpKeepalive(idle, Math.max(1, (idle + 2) / 3), PROBES);
  }

  /** On an accepted client channel. */
  public void apply(Channel ch) {
    ChannelConfig c = ch.config();
    c.setOption(ChannelOption.SO_KEEPALIVE, true);
    if (ch instanceof EpollSocketChannel) {
      c.setOption(EpollChannelOption.TCP_KEEPIDLE, idleSeconds);
      c.setOption(EpollChannelOption.TCP_KEEPINTVL, intervalSeconds);
      c.setOption(EpollChannelOption.TCP_KEEPCNT, count);
    } else if (ch instanceof IoUringSocketChannel) {
      c.setOption(IoUringChannelOption.TCP_KEEPIDLE, idleSeconds);
      c.setOption(IoUringChannelOption.TCP_KEEPINTVL, intervalSeconds);
      c.setOption(IoUringChannelOption.TCP_KEEPCNT, count);
    } else if (ch instanceof NioSocketChannel) {
      c.setOption(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPIDLE), idleSeconds);
      c.setOption(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPINTERVAL), intervalSeconds);
      c.setOption(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPCOUNT), count);
    }
  }

  /** On a backend connection about to be opened with channels of {@code channelClass}. */
  public void apply(Bootstrap b, Class<? extends Channel> channelClass) {
    b.option(ChannelOption.SO_KEEPALIVE, true);
    if (EpollSocketChannel.class.isAssignableFrom(channelClass)) {
      b.option(EpollChannelOption.TCP_KEEPIDLE, idleSeconds);
      b.option(EpollChannelOption.TCP_KEEPINTVL, intervalSeconds);
      b.option(EpollChannelOption.TCP_KEEPCNT, count);
    } else if (IoUringSocketChannel.class.isAssignableFrom(channelClass)) {
      b.option(IoUringChannelOption.TCP_KEEPIDLE, idleSeconds);
      b.option(IoUringChannelOption.TCP_KEEPINTVL, intervalSeconds);
      b.option(IoUringChannelOption.TCP_KEEPCNT, count);
    } else if (NioSocketChannel.class.isAssignableFrom(channelClass)) {
      b.option(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPIDLE), idleSeconds);
      b.option(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPINTERVAL), intervalSeconds);
      b.option(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPCOUNT), count);
    }
  }
}
