package io.tollgate.listener;

import io.netty.channel.ChannelHandler;
import io.tollgate.Snapshot;
import io.tollgate.config.UpstreamProxyProtocol;
import io.tollgate.metrics.Metrics;
import io.tollgate.relay.RelaySettings;
import java.util.function.Supplier;

/** Builds the per-listener channel initializers; they share one router and the metrics. */
public final class ListenerFactory {
  private final HelloRouter router;
  private final int maxClientHello;
  private final long helloTimeoutMillis;
  private final Metrics metrics;

  public ListenerFactory(
      Supplier<Snapshot> snapshot,
      RelaySettings relay,
      int maxClientHello,
      long helloTimeoutMillis,
      Metrics metrics) {
    this.router = new HelloRouter(snapshot, relay, metrics);
    this.maxClientHello = maxClientHello;
    this.helloTimeoutMillis = helloTimeoutMillis;
    this.metrics = metrics;
  }

  /** The child handler for the listener of that name. */
  public ChannelHandler initializer(String listenerName) {
    return initializer(listenerName, UpstreamProxyProtocol.OFF);
  }

  /** The child handler for a listener that may read PROXY headers from upstream balancers. */
  public ChannelHandler initializer(String listenerName, UpstreamProxyProtocol proxyProtocol) {
    return new TollgateChannelInitializer(
        listenerName, maxClientHello, helloTimeoutMillis, router, metrics, proxyProtocol);
  }
}
