package io.tollgate.it;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
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
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.netty.handler.codec.haproxy.HAProxySSLTLV;
import io.netty.handler.codec.haproxy.HAProxyTLV;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import io.tollgate.pki.IssuedCertificate;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A backend that requires a PROXY header, decoded with Netty's {@code HAProxyMessageDecoder}
 * (written by others than our encoder), optionally then TLS. For each connection it records what
 * the header said, then writes {@code name + "\n"} and echoes what it reads.
 */
final class ProxyOrigin implements AutoCloseable {
  /** One decoded header. TLV values as ASCII; the SSL TLV's fields and sub-TLVs apart. */
  record Seen(
      HAProxyCommand command,
      HAProxyProxiedProtocol protocol,
      String sourceAddress,
      int sourcePort,
      String destinationAddress,
      int destinationPort,
      Map<Integer, String> tlvs,
      Integer sslClient,
      Integer sslVerify,
      Map<Integer, String> ssl) {}

  private final EventLoopGroup group;
  private final Channel server;
  private final BlockingQueue<Seen> seen = new LinkedBlockingQueue<>();

  private ProxyOrigin(EventLoopGroup group, Channel server) {
    this.group = group;
    this.server = server;
  }

  /**
   * @param certificate the origin's certificate for TLS after the header, or null for plain
   */
  static ProxyOrigin start(String name, IssuedCertificate certificate) throws Exception {
    SslContext tls =
        certificate == null
            ? null
            : SslContextBuilder.forServer(
                    certificate.key(), certificate.chain().toArray(new X509Certificate[0]))
                .build();
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    ProxyOrigin[] self = new ProxyOrigin[1];
    Channel ch =
        new ServerBootstrap()
            .group(group)
            .channel(NioServerSocketChannel.class)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel c) {
                    c.pipeline().addLast(new HAProxyMessageDecoder());
                    if (tls != null) {
                      c.pipeline().addLast(tls.newHandler(c.alloc()));
                    }
                    c.pipeline().addLast(new Origin(name, tls != null, self));
                  }
                })
            .bind(new InetSocketAddress("127.0.0.1", 0))
            .sync()
            .channel();
    self[0] = new ProxyOrigin(group, ch);
    return self[0];
  }

  int port() {
    return ((InetSocketAddress) server.localAddress()).getPort();
  }

  /** The next header seen, waiting up to 10 s; fails when none came. */
  Seen next() throws InterruptedException {
    Seen s = seen.poll(10, TimeUnit.SECONDS);
    if (s == null) {
      throw new AssertionError("no PROXY header reached the origin");
    }
    return s;
  }

  void clear() {
    seen.clear();
  }

  @Override
  public void close() {
    server.close().syncUninterruptibly();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  private static final class Origin extends ChannelInboundHandlerAdapter {
    private final String name;
    private final boolean tls;
    private final ProxyOrigin[] owner;

    Origin(String name, boolean tls, ProxyOrigin[] owner) {
      this.name = name;
      this.tls = tls;
      this.owner = owner;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof HAProxyMessage m) {
        try {
          owner[0].seen.add(record(m));
        } finally {
          m.release();
        }
        if (!tls) {
          greet(ctx);
        }
      } else if (msg instanceof ByteBuf) {
        ctx.writeAndFlush(msg); // echo
      } else {
        ReferenceCountUtil.release(msg);
      }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof SslHandshakeCompletionEvent e) {
        if (e.isSuccess()) {
          greet(ctx);
        } else {
          ctx.close();
        }
      }
      ctx.fireUserEventTriggered(evt);
    }

    private void greet(ChannelHandlerContext ctx) {
      ctx.writeAndFlush(Unpooled.copiedBuffer(name + "\n", StandardCharsets.US_ASCII));
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }

    private static Seen record(HAProxyMessage m) {
      Map<Integer, String> tlvs = new LinkedHashMap<>();
      Integer client = null;
      Integer verify = null;
      Map<Integer, String> ssl = new LinkedHashMap<>();
      for (HAProxyTLV t : m.tlvs()) {
        if (t instanceof HAProxySSLTLV s) {
          client = (int) s.client();
          verify = s.verify();
          for (HAProxyTLV sub : s.encapsulatedTLVs()) {
            ssl.put(sub.typeByteValue() & 0xFF, sub.content().toString(StandardCharsets.UTF_8));
          }
          tlvs.put(t.typeByteValue() & 0xFF, "");
        } else if ((t.typeByteValue() & 0xFF) < 0x21 || (t.typeByteValue() & 0xFF) > 0x25) {
          // Netty also lists the SSL TLV's sub-TLVs (0x21..0x25) at the top level, after it.
          tlvs.put(t.typeByteValue() & 0xFF, t.content().toString(StandardCharsets.US_ASCII));
        }
      }
      return new Seen(
          m.command(),
          m.proxiedProtocol(),
          m.sourceAddress(),
          m.sourcePort(),
          m.destinationAddress(),
          m.destinationPort(),
          tlvs,
          client,
          verify,
          ssl);
    }
  }
}
