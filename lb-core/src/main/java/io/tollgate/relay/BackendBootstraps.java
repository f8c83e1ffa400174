package io.tollgate.relay;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.ReflectiveChannelFactory;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.concurrent.FastThreadLocal;

/**
 * The {@link Bootstrap} backend connections are opened with, built once per event loop and relay
 * settings instead of once per connect attempt: a new one costs a reflective constructor lookup
 * (its channel factory) and an option map per attempt. A Bootstrap may connect any number of times;
 * each loop keeps the one for the settings it used last, so a reload (new settings) builds a new
 * one on each loop's next connect and the old one is garbage.
 */
final class BackendBootstraps {
  /** Built on and used by one event loop's thread only. */
  private record Cached(EventLoop loop, RelaySettings settings, Bootstrap bootstrap) {}

  private static final FastThreadLocal<Cached> LAST = new FastThreadLocal<>();

  private BackendBootstraps() {}

  /**
   * The Bootstrap for channels on {@code loop} (the client's, which runs this) with {@code
   * settings}; {@code placeholder} is the handler every new backend channel starts with.
   */
  static Bootstrap of(EventLoop loop, RelaySettings settings, ChannelHandler placeholder) {
    Cached last = LAST.get();
    if (last == null || last.loop() != loop || last.settings() != settings) {
      last = new Cached(loop, settings, build(loop, settings, placeholder));
      LAST.set(last);
    }
    return last.bootstrap();
  }

  private static Bootstrap build(
      EventLoop loop, RelaySettings settings, ChannelHandler placeholder) {
    ChannelFactory<? extends SocketChannel> factory =
        new ReflectiveChannelFactory<>(settings.channelClass());
    // TCP_NODELAY is not set here: Netty's socket channels start with it on (everywhere but
    // Android), and setting it again costs a setsockopt per connection.
    Bootstrap b =
        new Bootstrap()
            .group(loop)
            .channelFactory(factory)
            .option(
                ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) settings.connectTimeout().toMillis())
            .option(ChannelOption.AUTO_READ, false)
            .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
            .option(ChannelOption.WRITE_BUFFER_WATER_MARK, settings.waterMark())
            .handler(placeholder);
    if (settings.keepalive() != null) {
      settings.keepalive().apply(b, settings.channelClass());
    }
    if (settings.receiveBuffer() > 0) {
      // Before connect, so the window scale in the SYN fits it (limits.receive-buffer).
      b.option(ChannelOption.SO_RCVBUF, settings.receiveBuffer());
    }
    return b;
  }
}
