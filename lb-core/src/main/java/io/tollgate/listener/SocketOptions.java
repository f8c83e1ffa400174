package io.tollgate.listener;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.uring.IoUringChannelOption;
import io.tollgate.config.ListenerConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * A listener's optional socket options, set before its socket is bound: {@code reuse-port}
 * (SO_REUSEPORT) and {@code freebind} (IP_FREEBIND). Only the epoll transport sets them; the JDK's
 * NIO has no IP_FREEBIND, and one rule for both keeps the choice simple. With NIO a listener that
 * asks for them is not bound at all (a clear start error rather than a socket that silently lacks
 * the option: a second process would then fail to bind, or the VIP bind would fail, later and
 * elsewhere).
 */
final class SocketOptions {
  private SocketOptions() {}

  /**
   * @throws IllegalStateException when the listener asks for an option this transport cannot set
   */
  static void apply(ServerBootstrap b, ListenerConfig lc, Transport transport) {
    List<String> wanted = new ArrayList<>();
    if (lc.reusePort()) {
      wanted.add("reuse-port");
    }
    if (lc.freebind()) {
      wanted.add("freebind");
    }
    if (wanted.isEmpty()) {
      return;
    }
    if (transport.isIoUring()) {
      if (lc.reusePort()) {
        b.option(IoUringChannelOption.SO_REUSEPORT, true);
      }
      if (lc.freebind()) {
        b.option(IoUringChannelOption.IP_FREEBIND, true);
      }
      return;
    }
    if (!transport.isEpoll()) {
      throw new IllegalStateException(
          "listener "
              + lc.name()
              + ": "
              + String.join(" and ", wanted)
              + " need a native transport (epoll or io_uring), but this process uses "
              + transport.name()
              + " (--nio, io.transport = nio, or epoll did not load); remove them or run with"
              + " epoll");
    }
    if (lc.reusePort()) {
      b.option(EpollChannelOption.SO_REUSEPORT, true);
    }
    if (lc.freebind()) {
      b.option(EpollChannelOption.IP_FREEBIND, true);
    }
  }
}
