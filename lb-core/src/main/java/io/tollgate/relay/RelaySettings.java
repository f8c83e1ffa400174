package io.tollgate.relay;

import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.SocketChannel;
import io.tollgate.connection.TcpKeepalive;
import java.time.Duration;

/**
 * What a relay needs to know beyond the route: timeouts, the channel class backends use, and the
 * write-buffer water marks that bound memory per connection.
 *
 * <p>Per direction a relay holds at most the high water mark plus one read (64 KiB) before it stops
 * reading from the sender. One exception: once the sender has sent FIN, Netty's native transports
 * reads the socket's remaining receive queue regardless of autoRead, so that direction can hold up
 * to the kernel's receive buffer (net.ipv4.tcp_rmem max, or {@code receiveBuffer} when set) until
 * the slow side drains or the idle timeout closes it.
 *
 * <p>{@code splice}: passthrough relays between two epoll channels move bytes with splice(2)
 * ({@link SplicedRelay}); true only when {@code io.splice} is on and the transport is epoll.
 */
public record RelaySettings(
    Duration connectTimeout,
    Duration idleTimeout,
    Duration handshakeTimeout,
    Class<? extends SocketChannel> channelClass,
    WriteBufferWaterMark waterMark,
    TcpKeepalive keepalive,
    boolean splice,
    Duration lingeringClose,
    int receiveBuffer) {

  /** With the default lingering close ({@code timeouts.lingering-close}). */
  public RelaySettings(
      Duration connectTimeout,
      Duration idleTimeout,
      Duration handshakeTimeout,
      Class<? extends SocketChannel> channelClass,
      WriteBufferWaterMark waterMark,
      TcpKeepalive keepalive,
      boolean splice) {
    this(
        connectTimeout,
        idleTimeout,
        handshakeTimeout,
        channelClass,
        waterMark,
        keepalive,
        splice,
        io.tollgate.config.Timeouts.DEFAULT_LINGERING_CLOSE,
        0);
  }

  /** Without TCP keepalive on backend connections, without splice. */
  public RelaySettings(
      Duration connectTimeout,
      Duration idleTimeout,
      Duration handshakeTimeout,
      Class<? extends SocketChannel> channelClass,
      WriteBufferWaterMark waterMark) {
    this(connectTimeout, idleTimeout, handshakeTimeout, channelClass, waterMark, null, false);
  }

  /** 64 KiB / 128 KiB: enough to keep loopback and LAN links busy, small enough for 100k conns. */
  public static final WriteBufferWaterMark DEFAULT_WATER_MARK =
      new WriteBufferWaterMark(64 * 1024, 128 * 1024);
}
