package io.tollgate.listener;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.SocketChannel;
import io.tollgate.NettyPipeline;
import io.tollgate.config.UpstreamProxyProtocol;
import io.tollgate.connection.Connection;
import io.tollgate.inspect.ClientHelloInspector;
import io.tollgate.inspect.ClientHelloParser;
import io.tollgate.metrics.Metrics;
import io.tollgate.proxyprotocol.ProxyHeaderReader;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sets up each accepted connection of one listener: its {@link Connection} record, the close
 * bookkeeping, the PROXY header reader (listeners with proxy-protocol), and the ClientHello
 * inspector. Everything after the hello is installed by
 * {@link HelloRouter}.
 */
@ChannelHandler.Sharable
final class TollgateChannelInitializer extends ChannelInitializer<SocketChannel> {
  private static final Logger log = LoggerFactory.getLogger("io.tollgate.connection");
  /** Ids start at a random point so two runs' logs do not reuse them. */
  private static final AtomicLong IDS = new AtomicLong(ThreadLocalRandom.current().nextLong());

  private final String listenerName;
  private final int maxClientHello;
  private final long helloTimeoutMillis;
  private final HelloRouter router;
  private final Metrics metrics;
  private final UpstreamProxyProtocol proxyProtocol;

  TollgateChannelInitializer(
      String listenerName,
      int maxClientHello,
      long helloTimeoutMillis,
      HelloRouter router,
      Metrics metrics,
      UpstreamProxyProtocol proxyProtocol) {
    this.listenerName = listenerName;
    this.maxClientHello = maxClientHello;
    this.helloTimeoutMillis = helloTimeoutMillis;
    this.router = router;
    this.metrics = metrics;
    this.proxyProtocol = proxyProtocol;
  }

  @Override
  protected void initChannel(SocketChannel ch) {
    Connection conn = trackConnection(ch);
    addProxyProtocol(ch);
    addInspector(ch);
  }

  private Connection trackConnection(SocketChannel ch) {
    Connection conn =
        new Connection(
            String.format("%016x", IDS.incrementAndGet()),
            listenerName,
            ch.remoteAddress(),
            System.nanoTime());
    ch.attr(Connection.KEY).set(conn);
    metrics.accepted();
    ch.closeFuture()
        .addListener(
            f -> {
              metrics.closed(conn.reason(), conn.bytesFromClient(), conn.bytesFromBackend());
              if (log.isDebugEnabled()) {
                log.debug(conn.summary(System.nanoTime()));
              }
            });
    return conn;
  }

  /** On listeners behind another balancer: reads its PROXY header before the ClientHello. */
  private void addProxyProtocol(SocketChannel ch) {
    if (proxyProtocol.enabled()) {
      ch.pipeline()
          .addLast(NettyPipeline.PROXY_HEADER,
              new ProxyHeaderReader(proxyProtocol, helloTimeoutMillis));
    }
  }

  private void addInspector(SocketChannel ch) {
    ch.pipeline()
        .addLast(
            NettyPipeline.INSPECTOR,
            new ClientHelloInspector(
                new ClientHelloParser(maxClientHello), helloTimeoutMillis, router));
  }
}
