package io.tollgate.listener;

import io.netty.channel.ChannelHandler;
import io.tollgate.snapshot.Snapshot;
import io.tollgate.config.UpstreamProxyProtocol;
import io.tollgate.accesslog.AccessLog;
import io.tollgate.limits.AcceptBackoff;
import io.tollgate.limits.ConnectionLimits;
import io.tollgate.metrics.Metrics;
import io.tollgate.relay.RelaySettings;
import java.util.function.Supplier;

/**
 * Builds the per-listener channel initializers; they share one router, the metrics, the
 * connection limits and the access log.
 */
public final class ListenerFactory {
  private final HelloRouter router;
  private final int maxClientHello;
  private final long helloTimeoutMillis;
  private final Metrics metrics;
  private final ConnectionLimits limits;
  private final AccessLog accessLog;

  public ListenerFactory(
      Supplier<Snapshot> snapshot,
      RelaySettings relay,
      int maxClientHello,
      long helloTimeoutMillis,
      Metrics metrics,
      ConnectionLimits limits,
      AccessLog accessLog) {
    this.router = new HelloRouter(snapshot, relay, metrics, limits);
    this.maxClientHello = maxClientHello;
    this.helloTimeoutMillis = helloTimeoutMillis;
    this.metrics = metrics;
    this.limits = limits;
    this.accessLog = accessLog;
  }

  /** The child handler for a listener that may read PROXY headers from upstream balancers. */
  public ChannelHandler initializer(String listenerName, UpstreamProxyProtocol proxyProtocol) {
    return new TollgateChannelInitializer(
        listenerName, maxClientHello, helloTimeoutMillis, router, metrics, limits, accessLog,
        proxyProtocol);
  }

  /** The handler of the listener's server channel: pauses accepting when accept fails. */
  public ChannelHandler acceptHandler(String listenerName) {
    return new AcceptBackoff(listenerName, metrics);
  }
}
