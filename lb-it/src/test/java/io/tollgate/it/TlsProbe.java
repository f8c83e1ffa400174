package io.tollgate.it;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.ReferenceCountUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLSession;
import javax.net.ssl.TrustManagerFactory;

/**
 * A one-shot TLS client handshake with exactly the protocols, cipher suites, ALPN list and
 * client certificate a test asks for, on BoringSSL by default: unlike the JDK, it still speaks
 * TLS 1.0/1.1 and legacy suites, so tests can check that Tollgate refuses them.
 */
final class TlsProbe {
  private List<String> protocols = List.of("TLSv1.3", "TLSv1.2");
  private List<String> ciphers;
  private List<String> alpn = List.of();
  private KeyManagerFactory clientCertificate;
  private SslProvider provider = SslProvider.OPENSSL;
  private final TrustManagerFactory trust;

  /** What a finished handshake negotiated. */
  record Result(
      boolean success,
      Throwable failure,
      String protocol,
      String cipher,
      String alpn,
      X509Certificate peer) {
    String peerKeyAlgorithm() {
      return peer.getPublicKey().getAlgorithm();
    }
  }

  TlsProbe(TrustManagerFactory trust) {
    this.trust = trust;
  }

  TlsProbe protocols(String... protocols) {
    this.protocols = List.of(protocols);
    return this;
  }

  TlsProbe ciphers(String... ciphers) {
    this.ciphers = List.of(ciphers);
    return this;
  }

  TlsProbe alpn(String... protocols) {
    this.alpn = List.of(protocols);
    return this;
  }

  TlsProbe clientCertificate(KeyManagerFactory keys) {
    this.clientCertificate = keys;
    return this;
  }

  TlsProbe provider(SslProvider provider) {
    this.provider = provider;
    return this;
  }

  /** Handshakes with {@code 127.0.0.1:port} sending SNI {@code sni}; never throws for TLS. */
  Result handshake(int port, String sni) throws Exception {
    SslContextBuilder builder =
        SslContextBuilder.forClient()
            .sslProvider(provider)
            .trustManager(trust)
            .protocols(protocols)
            .ciphers(ciphers)
            .keyManager(clientCertificate);
    if (!alpn.isEmpty()) {
      builder.applicationProtocolConfig(
          new ApplicationProtocolConfig(
              ApplicationProtocolConfig.Protocol.ALPN,
              ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
              ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
              alpn));
    }
    SslContext context = builder.build();
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    try {
      SslHandler[] handler = new SslHandler[1];
      Channel channel =
          new Bootstrap()
              .group(group)
              .channel(NioSocketChannel.class)
              .handler(
                  new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                      handler[0] = context.newHandler(ch.alloc(), sni, port);
                      handler[0].setHandshakeTimeoutMillis(10_000);
                      ch.pipeline().addLast(handler[0]);
                      // The handshake future carries failures; keep them out of the log.
                      ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                        @Override
                        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                          ctx.close();
                        }
                      });
                    }
                  })
              .connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port))
              .sync()
              .channel();
      try {
        if (!handler[0].handshakeFuture().await(15, TimeUnit.SECONDS)) {
          throw new AssertionError("handshake did not finish");
        }
        if (!handler[0].handshakeFuture().isSuccess()) {
          return new Result(false, handler[0].handshakeFuture().cause(), null, null, null, null);
        }
        SSLSession session = handler[0].engine().getSession();
        return new Result(
            true,
            null,
            session.getProtocol(),
            session.getCipherSuite(),
            handler[0].applicationProtocol(),
            (X509Certificate) session.getPeerCertificates()[0]);
      } finally {
        channel.close().sync();
      }
    } finally {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
      ReferenceCountUtil.release(context);
    }
  }
}
