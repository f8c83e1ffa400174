package io.tollgate.tls;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A Netty server on 127.0.0.1 that puts {@link ServerTls#newHandler} in front of every accepted
 * connection, with the SNI and ECDSA support the test chose (the data path gets them from the
 * ClientHello). After a successful handshake it writes {@code "hello\n"} (so clients read past
 * post-handshake messages such as TLS 1.3 session tickets) and discards what it receives.
 */
final class ServerTlsHarness implements AutoCloseable {
  /** How one connection's handshake ended on the server side. */
  record Outcome(boolean success, Throwable cause, String alpn) {}

  private final EventLoopGroup group =
      new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final Channel serverChannel;
  private final BlockingQueue<Outcome> outcomes = new LinkedBlockingQueue<>();
  volatile String sni;
  volatile boolean clientSupportsEcdsa = true;

  ServerTlsHarness(ServerTls tls) throws InterruptedException {
    this(tls, 0);
  }

  /**
   * On a chosen port (to follow another harness on its port: the JDK's client session cache is
   * keyed by host and port).
   */
  ServerTlsHarness(ServerTls tls, int port) throws InterruptedException {
    serverChannel =
        new ServerBootstrap()
            .group(group)
            .channel(NioServerSocketChannel.class)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    SslHandler handler = tls.newHandler(ch.alloc(), sni, clientSupportsEcdsa);
                    if (handler == null) {
                      outcomes.add(
                          new Outcome(false, new IllegalStateException("no handler"), null));
                      ch.close();
                      return;
                    }
                    handler
                        .handshakeFuture()
                        .addListener(
                            future -> {
                              if (future.isSuccess()) {
                                outcomes.add(
                                    new Outcome(true, null, handler.applicationProtocol()));
                                ch.writeAndFlush(
                                    Unpooled.copiedBuffer("hello\n", StandardCharsets.US_ASCII));
                              } else {
                                outcomes.add(new Outcome(false, future.cause(), null));
                              }
                            });
                    ch.pipeline().addLast(handler, new Discard());
                  }
                })
            .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port))
            .sync()
            .channel();
  }

  int port() {
    return ((InetSocketAddress) serverChannel.localAddress()).getPort();
  }

  /** The outcome of the next handshake the server finished (waits up to 10 s). */
  Outcome nextOutcome() throws InterruptedException {
    Outcome outcome = outcomes.poll(10, TimeUnit.SECONDS);
    if (outcome == null) {
      throw new AssertionError("no handshake outcome on the server within 10 s");
    }
    return outcome;
  }

  @Override
  public void close() {
    serverChannel.close().syncUninterruptibly();
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
  }

  private static final class Discard extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ReferenceCountUtil.release(msg);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close(); // handshake failures are recorded by the handshake future
    }
  }
}
