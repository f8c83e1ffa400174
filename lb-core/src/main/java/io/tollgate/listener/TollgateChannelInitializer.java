package io.tollgate.listener;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.SocketChannel;
import io.tollgate.accesslog.AccessLog;
import io.tollgate.config.ListenerProtocol;
import io.tollgate.connection.CloseReason;
import io.tollgate.connection.Connection;
import io.tollgate.connection.EmptyWrites;
import io.tollgate.connection.InputAfterFin;
import io.tollgate.connection.NettyPipeline;
import io.tollgate.connection.Refusal;
import io.tollgate.inspect.ClientHelloInspector;
import io.tollgate.inspect.HttpRequestInspector;
import io.tollgate.limits.ConnectionLimits;
import io.tollgate.metrics.Metrics;
import io.tollgate.proxyprotocol.ProxyHeaderReader;
import io.tollgate.relay.ReadCounter;
import io.tollgate.route.SourceFilter;
import io.tollgate.snapshot.ListenerSettings;
import io.tollgate.snapshot.Snapshot;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sets up each accepted connection of one listener: its {@link Connection} record, pinned to the
 * snapshot the listener accepted it under ({@link SnapshotPin}), the close bookkeeping (metrics,
 * access log, the open-connection set), the connection limits, the PROXY header reader (listeners
 * with proxy-protocol), and the ClientHello inspector (on http listeners the request-head
 * inspector), all with that snapshot's {@link ListenerSettings}. Everything after the hello is
 * installed by {@link HelloRouter}, with the same snapshot. One per bound listener, for as long as
 * it is bound: a reload changes the snapshot new connections get, not this object.
 */
@ChannelHandler.Sharable
final class TollgateChannelInitializer extends ChannelInitializer<SocketChannel> {
  private static final Logger log = LoggerFactory.getLogger("io.tollgate.connection");

  /** Ids start at a random point so two runs' logs do not reuse them. */
  private static final AtomicLong IDS = new AtomicLong(ThreadLocalRandom.current().nextLong());

  private final String listenerName;
  private final HelloRouter router;
  private final HttpRequestRouter httpRouter;
  private final Metrics metrics;
  private final Metrics.ListenerMetrics listenerMetrics;
  private final ConnectionLimits limits;
  private final AccessLog accessLog;
  private final OpenConnections connections;

  TollgateChannelInitializer(
      String listenerName,
      HelloRouter router,
      HttpRequestRouter httpRouter,
      Metrics metrics,
      ConnectionLimits limits,
      AccessLog accessLog,
      OpenConnections connections) {
    this.listenerName = listenerName;
    this.router = router;
    this.httpRouter = httpRouter;
    this.metrics = metrics;
    this.listenerMetrics = metrics.listener(listenerName);
    this.limits = limits;
    this.accessLog = accessLog;
    this.connections = connections;
  }

  @Override
  protected void initChannel(SocketChannel ch) {
    // Whatever the client sends before its FIN waits in its socket while Tollgate does not read,
    // in every phase (the hello, a backend connect, a queued handshake, a relay held back).
    InputAfterFin.backpressured(ch);
    EmptyWrites.install(ch);
    connections.add(ch);
    Snapshot snapshot = SnapshotPin.take(ch);
    ListenerSettings settings = snapshot.listener(listenerName);
    Connection conn = trackConnection(ch, snapshot);
    if (snapshot.relay().splice()) {
      ReadCounter.install(ch); // a spliced relay counts its bytes here; before the first read
    }
    // Behind another balancer the source is only known from its PROXY header: per-source
    // limits wait for it (the reader applies them), the others apply now.
    boolean proxied = settings.proxyProtocol().enabled();
    SourceFilter access = settings.access();
    // The listener's allow-from / deny-from before anything is read or counted: a refused client
    // costs no limit slot. Behind a balancer the client is known only from its header.
    if (access != null && !proxied && !access.admits(conn.client())) {
      Refusal.refuse(
          ch, CloseReason.DENIED, "client not allowed on listener " + listenerName, null);
      return;
    }
    if (refused(ch, conn, limits.admit(ch, conn, !proxied))) {
      return;
    }
    if (settings.keepalive() != null) {
      settings.keepalive().apply(ch);
    }
    if (settings.receiveBuffer() > 0) {
      // After accept, one setsockopt per connection, so that a reload applies to new ones: the
      // handshake's window scale already allows the kernel's largest buffer, so this changes
      // only how much the kernel queues for this socket (limits.receive-buffer).
      ch.config().setOption(ChannelOption.SO_RCVBUF, settings.receiveBuffer());
    }
    if (settings.maxLifetimeMillis() > 0) {
      MaxLifetime.schedule(ch, conn, settings.maxLifetimeMillis());
    }
    if (proxied) {
      ProxyHeaderReader.SourceAdmission admission =
          access == null
              ? limits::admitSource
              : (c, proxiedConn) ->
                  access.admits(proxiedConn.client())
                      ? limits.admitSource(c, proxiedConn)
                      : CloseReason.DENIED;
      ch.pipeline()
          .addLast(
              NettyPipeline.PROXY_HEADER,
              new ProxyHeaderReader(
                  settings.proxyProtocol(), settings.helloTimeoutMillis(), admission));
    }
    if (settings.protocol() == ListenerProtocol.HTTP) {
      ch.pipeline()
          .addLast(
              NettyPipeline.HTTP_INSPECTOR,
              new HttpRequestInspector(
                  settings.requestParser(), settings.helloTimeoutMillis(), httpRouter));
      return;
    }
    ch.pipeline()
        .addLast(
            NettyPipeline.INSPECTOR,
            new ClientHelloInspector(
                settings.helloParser(), settings.helloTimeoutMillis(), router));
  }

  private Connection trackConnection(SocketChannel ch, Snapshot snapshot) {
    Connection conn =
        new Connection(
            IDS.incrementAndGet(), listenerName, ch.remoteAddress(), System.nanoTime(), snapshot);
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

  /** Closes the connection at once when it is over a limit; it still gets its close reason. */
  private static boolean refused(SocketChannel ch, Connection conn, CloseReason over) {
    if (over == null) {
      return false;
    }
    Refusal.refuse(ch, over, ConnectionLimits.describe(over), null);
    return true;
  }
}
