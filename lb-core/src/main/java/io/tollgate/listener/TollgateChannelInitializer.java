package io.tollgate.listener;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.SocketChannel;
import io.tollgate.connection.NettyPipeline;
import io.tollgate.config.UpstreamProxyProtocol;
import io.tollgate.accesslog.AccessLog;
import io.tollgate.connection.CloseReason;
import io.tollgate.connection.Connection;
import io.tollgate.connection.Refusal;
import io.tollgate.inspect.ClientHelloInspector;
import io.tollgate.inspect.ClientHelloParser;
import io.tollgate.limits.ConnectionLimits;
import io.tollgate.metrics.Metrics;
import io.tollgate.proxyprotocol.ProxyHeaderReader;
import java.util.HexFormat;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sets up each accepted connection of one listener: its {@link Connection} record, the close
 * bookkeeping (metrics, access log), the connection limits, the PROXY header reader (listeners
 * with proxy-protocol), and the ClientHello inspector. Everything after the hello is installed by
 * {@link HelloRouter}.
 */
@ChannelHandler.Sharable
final class TollgateChannelInitializer extends ChannelInitializer<SocketChannel> {
  private static final Logger log = LoggerFactory.getLogger("io.tollgate.connection");
  /** Ids start at a random point so two runs' logs do not reuse them. */
  private static final AtomicLong IDS = new AtomicLong(ThreadLocalRandom.current().nextLong());
  /** Ids as 16 lower-case hex digits; what {@code String.format("%016x")} gave, ~40x cheaper. */
  private static final HexFormat HEX = HexFormat.of();

  private final String listenerName;
  /** Stateless, so one serves every connection of the listener. */
  private final ClientHelloParser helloParser;
  private final long helloTimeoutMillis;
  private final HelloRouter router;
  private final Metrics metrics;
  private final UpstreamProxyProtocol proxyProtocol;
  private final Metrics.ListenerMetrics listenerMetrics;
  private final ConnectionLimits limits;
  private final AccessLog accessLog;

  TollgateChannelInitializer(
      String listenerName,
      int maxClientHello,
      long helloTimeoutMillis,
      HelloRouter router,
      Metrics metrics,
      ConnectionLimits limits,
      AccessLog accessLog,
      UpstreamProxyProtocol proxyProtocol) {
    this.listenerName = listenerName;
    this.helloParser = new ClientHelloParser(maxClientHello);
    this.helloTimeoutMillis = helloTimeoutMillis;
    this.router = router;
    this.metrics = metrics;
    this.proxyProtocol = proxyProtocol;
    this.listenerMetrics = metrics.listener(listenerName);
    this.limits = limits;
    this.accessLog = accessLog;
  }

  @Override
  protected void initChannel(SocketChannel ch) {
    Connection conn = trackConnection(ch);
    // Behind another balancer the source is only known from its PROXY header: per-source
    // limits wait for it (the reader applies them), the others apply now.
    if (refused(ch, conn, limits.admit(ch, conn, !proxyProtocol.enabled()))) {
      return;
    }
    addProxyProtocol(ch);
    addInspector(ch);
  }

  private Connection trackConnection(SocketChannel ch) {
    Connection conn =
        new Connection(
            HEX.toHexDigits(IDS.incrementAndGet()),
            listenerName,
            ch.remoteAddress(),
            System.nanoTime());
    ch.attr(Connection.KEY).set(conn);
    metrics.accepted(listenerMetrics);
    ch.closeFuture()
        .addListener(
            f -> {
              long now = System.nanoTime();
              metrics.closed(conn, listenerMetrics);
              accessLog.closed(conn, now);
              if (log.isDebugEnabled()) {
                log.debug(conn.summary(now));
              }
            });
    return conn;
  }

  /** On listeners behind another balancer: reads its PROXY header before the ClientHello. */
  private void addProxyProtocol(SocketChannel ch) {
    if (proxyProtocol.enabled()) {
      ch.pipeline()
          .addLast(NettyPipeline.PROXY_HEADER,
              new ProxyHeaderReader(proxyProtocol, helloTimeoutMillis, limits::admitSource));
    }
  }

  /** Closes the connection at once when it is over a limit; it still gets its close reason. */
  private static boolean refused(SocketChannel ch, Connection conn, CloseReason over) {
    if (over == null) {
      return false;
    }
    Refusal.refuse(ch, over, ConnectionLimits.describe(over), null);
    return true;
  }

  private void addInspector(SocketChannel ch) {
    ch.pipeline()
        .addLast(
            NettyPipeline.INSPECTOR,
            new ClientHelloInspector(helloParser, helloTimeoutMillis, router));
  }
}
