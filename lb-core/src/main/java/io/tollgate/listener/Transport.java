package io.tollgate.listener;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.tollgate.config.IoConfig;
import java.util.function.Supplier;

/**
 * The socket implementation: epoll on Linux when its native library loads, the JDK's NIO otherwise,
 * or io_uring when asked for by name. Backend channels use the same class as client channels so
 * both can live on one event loop (and, with epoll, splice between each other).
 */
public final class Transport {
  private final String name;
  private final Supplier<IoHandlerFactory> ioHandlers;
  private final Class<? extends ServerChannel> serverChannel;
  private final Class<? extends SocketChannel> socketChannel;

  private Transport(
      String name,
      Supplier<IoHandlerFactory> ioHandlers,
      Class<? extends ServerChannel> serverChannel,
      Class<? extends SocketChannel> socketChannel) {
    this.name = name;
    this.ioHandlers = ioHandlers;
    this.serverChannel = serverChannel;
    this.socketChannel = socketChannel;
  }

  /**
   * Picks the transport. {@code AUTO} prefers epoll and falls back to NIO; asking for epoll where
   * it cannot load is an error that says why.
   */
  public static Transport select(IoConfig.Transport wanted) {
    switch (wanted) {
      case NIO:
        return nio();
      case EPOLL:
        if (!Epoll.isAvailable()) {
          throw new IllegalStateException(
              "io.transport = epoll, but epoll is not available here: "
                  + Epoll.unavailabilityCause()
                  + " (use io.transport = auto or nio)");
        }
        return epoll();
      case IO_URING:
        if (!IoUring.isAvailable()) {
          throw new IllegalStateException(
              "io.transport = io_uring, but io_uring is not available here: "
                  + IoUring.unavailabilityCause()
                  + " (Netty's io_uring needs Linux 5.9 or later on x86_64, with io_uring not"
                  + " turned off by kernel.io_uring_disabled or a seccomp profile; use"
                  + " io.transport = auto)");
        }
        return ioUring();
      case AUTO:
      default:
        return Epoll.isAvailable() ? epoll() : nio();
    }
  }

  private static Transport epoll() {
    return new Transport(
        "epoll",
        RearmingEpollIoHandler::newFactory,
        EpollServerSocketChannel.class,
        EpollSocketChannel.class);
  }

  private static Transport ioUring() {
    return new Transport(
        "io_uring",
        PollOutAfterFinIoUringHandler::newFactory,
        IoUringServerSocketChannel.class,
        IoUringSocketChannel.class);
  }

  private static Transport nio() {
    return new Transport(
        "nio", NioIoHandler::newFactory, NioServerSocketChannel.class, NioSocketChannel.class);
  }

  public String name() {
    return name;
  }

  /** Whether this is the native epoll transport (splice, inherited sockets, upgrade). */
  public boolean isEpoll() {
    return serverChannel == EpollServerSocketChannel.class;
  }

  /** Whether this is the native io_uring transport. */
  public boolean isIoUring() {
    return serverChannel == IoUringServerSocketChannel.class;
  }

  public Class<? extends ServerChannel> serverChannel() {
    return serverChannel;
  }

  public Class<? extends SocketChannel> socketChannel() {
    return socketChannel;
  }

  /** A group of event loops with threads named {@code tollgate-<role>-N}. */
  public EventLoopGroup newGroup(int threads, String role) {
    return newGroup(threads, role, false);
  }

  /**
   * As {@link #newGroup(int, String)}; with {@code spinFreeTasks} the loops take their tasks from a
   * linked queue ({@link WorkerLoopGroup}: for tasks handed over by threads of lower priority).
   */
  public EventLoopGroup newGroup(int threads, String role, boolean spinFreeTasks) {
    DefaultThreadFactory names = new DefaultThreadFactory("tollgate-" + role, true);
    return LullGuard.install(
        spinFreeTasks
            ? new WorkerLoopGroup(threads, names, ioHandlers.get())
            : new MultiThreadIoEventLoopGroup(threads, names, ioHandlers.get()));
  }
}
