package io.tollgate.listener;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.tollgate.accesslog.AccessLog;
import io.tollgate.acme.HttpChallenges;
import io.tollgate.config.ConfigError;
import io.tollgate.config.ConfigException;
import io.tollgate.config.ListenerConfig;
import io.tollgate.config.TollgateConfig;
import io.tollgate.handshake.HandshakeThreads;
import io.tollgate.limits.AcceptBackoff;
import io.tollgate.limits.ConnectionLimits;
import io.tollgate.metrics.Metrics;
import io.tollgate.relay.RelaySettings;
import io.tollgate.snapshot.Snapshot;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bound listeners of a Tollgate, by name, and the connections they accepted. Each bound
 * listener has one {@link TollgateChannelInitializer} for its life; what its connections are set up
 * with comes from the snapshot in force when they are accepted, so a reload never touches a
 * listener that stays bound.
 *
 * <p>Changed only under this object's lock (bind, reload, close).
 */
public final class Listeners {
  private static final Logger log = LoggerFactory.getLogger(Listeners.class);

  private final Transport transport;
  private final EventLoopGroup acceptors;
  private final EventLoopGroup workers;
  private final Metrics metrics;
  private final ConnectionLimits limits;
  private final AccessLog accessLog;
  private final SnapshotPin pin;
  private final HelloRouter router;
  private final HttpRequestRouter httpRouter;
  private final InheritedSockets inherited;
  private final OpenConnections connections = new OpenConnections();
  private final Map<String, Bound> bound = new LinkedHashMap<>();

  private record Bound(ListenerConfig config, Channel channel) {}

  /**
   * @param snapshot the snapshot in force; read once per accepted connection
   * @param inherited listening sockets to adopt instead of binding (epoll only)
   * @param handshakeThreads where terminated connections' ClientHello steps run ({@code
   *     io.handshake-threads}); {@code null}: on the loops
   */
  public Listeners(
      Transport transport,
      InheritedSockets inherited,
      EventLoopGroup acceptors,
      EventLoopGroup workers,
      Supplier<Snapshot> snapshot,
      Metrics metrics,
      ConnectionLimits limits,
      AccessLog accessLog,
      HandshakeThreads handshakeThreads) {
    this.transport = transport;
    this.inherited = inherited;
    this.acceptors = acceptors;
    this.workers = workers;
    this.metrics = metrics;
    this.limits = limits;
    this.accessLog = accessLog;
    this.pin = new SnapshotPin(snapshot);
    this.router = new HelloRouter(metrics, limits, handshakeThreads);
    this.httpRouter = new HttpRequestRouter(metrics, limits);
  }

  /**
   * Where http listeners get the key authorizations of pending ACME http-01 challenges from; {@link
   * HttpChallenges#NONE} until set. Takes effect for the next request.
   */
  public void httpChallenges(HttpChallenges challenges) {
    httpRouter.challenges(challenges);
  }

  /**
   * Binds every listener of a config whose snapshot is in force; they accept at once.
   *
   * @throws IllegalStateException when one cannot be bound (those bound stay bound: close them)
   */
  public synchronized void bind(List<ListenerConfig> listeners) {
    for (ListenerConfig lc : listeners) {
      bound.put(lc.name(), bind(lc, true));
    }
  }

  /**
   * @param accepting false: bound (the address is taken, the kernel queues connections), but
   *     nothing is accepted until autoRead is turned on
   * @throws IllegalStateException when the address cannot be bound
   */
  private Bound bind(ListenerConfig lc, boolean accepting) {
    InetSocketAddress address = new InetSocketAddress(lc.address().host(), lc.address().port());
    EpollServerSocketChannel adopted = inherited.take(lc.name(), address);
    ServerBootstrap b =
        new ServerBootstrap()
            .group(acceptors, workers)
            .option(ChannelOption.SO_BACKLOG, 1024)
            .option(ChannelOption.SO_REUSEADDR, true)
            .option(ChannelOption.AUTO_READ, accepting)
            .handler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel ch) {
                    ch.pipeline().addLast(new AcceptBackoff(lc.name(), metrics), pin);
                  }
                })
            // No TCP_NODELAY: Netty's socket channels start with it on (everywhere but Android),
            // and setting it again costs a setsockopt per accepted connection.
            .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
            .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, RelaySettings.DEFAULT_WATER_MARK)
            .childHandler(
                new TollgateChannelInitializer(
                    lc.name(), router, httpRouter, metrics, limits, accessLog, connections));
    SocketOptions.apply(b, lc, transport);
    try {
      if (adopted != null) {
        // Already bound and listening: registering it starts accepting from its queue.
        Channel ch = b.channelFactory(() -> adopted).register().syncUninterruptibly().channel();
        log.info("listener {} took over the inherited socket at {}", lc.name(), ch.localAddress());
        return new Bound(lc, ch);
      }
      b.channel(transport.serverChannel());
      return new Bound(lc, b.bind(address).syncUninterruptibly().channel());
    } catch (Exception e) {
      throw new IllegalStateException(
          "listener " + lc.name() + ": cannot bind " + lc.address() + ": " + e.getMessage(), e);
    }
  }

  /**
   * The listener half of a reload to {@code config}, all or nothing. Listeners are matched by name:
   * one whose address is unchanged stays bound, a new or moved one is bound, and one no longer in
   * the config (or moved) is closed; its open connections continue. Newly bound ones do not accept
   * yet: their connections must get the new snapshot, which is not in force yet.
   *
   * @return call once the new snapshot is in force: the newly bound listeners start accepting
   * @throws ConfigException when a listener cannot be bound; everything is as it was (the listeners
   *     closed to free an address for another are bound again)
   */
  public synchronized Runnable reload(TollgateConfig config) throws ConfigException {
    ListenerChanges changes =
        ListenerChanges.of(bound.values().stream().map(Bound::config).toList(), config.listeners());
    for (String name : changes.closeFirst()) {
      bound.get(name).channel().close().syncUninterruptibly();
    }
    Map<String, Bound> added = new LinkedHashMap<>();
    for (ListenerConfig lc : changes.bind()) {
      try {
        added.put(lc.name(), bind(lc, false));
      } catch (IllegalStateException e) {
        undoBinds(added.values(), changes.closeFirst());
        throw new ConfigException(
            List.of(
                new ConfigError(
                    config.source(),
                    "tollgate.listeners[" + config.listeners().indexOf(lc) + "].address",
                    e.getMessage())));
      }
    }
    // Closed before the new snapshot goes into force: every connection they accepted was
    // accepted under a snapshot that has them (see SnapshotPin).
    for (String name : changes.close()) {
      Bound old = bound.remove(name);
      if (!changes.closeFirst().contains(name)) {
        old.channel().close().syncUninterruptibly();
      }
      log.info(
          "listener {} at {} closed: no longer in the config (its open connections" + " continue)",
          name,
          old.config().address());
    }
    // Keep the config's order, so status lists listeners as the file does.
    Map<String, Bound> ordered = new LinkedHashMap<>();
    for (ListenerConfig lc : config.listeners()) {
      Bound b = added.get(lc.name());
      if (b != null) {
        log.info("listener {} bound at {}", lc.name(), b.channel().localAddress());
      } else {
        b = new Bound(lc, bound.get(lc.name()).channel());
      }
      ordered.put(lc.name(), b);
    }
    bound.clear();
    bound.putAll(ordered);
    List<Channel> accept = added.values().stream().map(Bound::channel).toList();
    return () -> accept.forEach(ch -> ch.config().setAutoRead(true));
  }

  /**
   * A reload failed to bind: closes what it had bound and binds again the listeners it had closed
   * first, which accept at once under the snapshot that stays in force.
   */
  private void undoBinds(Collection<Bound> added, List<String> closedFirst) {
    added.forEach(b -> b.channel().close().syncUninterruptibly());
    List<String> lost = new ArrayList<>();
    for (String name : closedFirst) {
      try {
        bound.put(name, bind(bound.get(name).config(), true));
      } catch (IllegalStateException again) {
        bound.remove(name);
        lost.add(name);
      }
    }
    if (!lost.isEmpty()) {
      log.error("listener(s) {} could not be bound again after a failed reload", lost);
    }
  }

  /** Stops accepting on every listener; the connections they accepted go on. */
  public synchronized void close() {
    for (Bound b : bound.values()) {
      b.channel().close().awaitUninterruptibly();
    }
  }

  /**
   * The listening sockets by listener name, in config order, for a successor process to adopt.
   *
   * @throws IllegalStateException when a listener is not an epoll socket (NIO cannot share one)
   */
  public synchronized Map<String, Integer> sockets() {
    Map<String, Integer> out = new LinkedHashMap<>();
    bound.forEach(
        (name, b) -> {
          if (!(b.channel() instanceof EpollServerSocketChannel epoll)) {
            throw new IllegalStateException("listener " + name + " is not an epoll socket");
          }
          out.put(name, epoll.fd().intValue());
        });
    return out;
  }

  /** The client connections open now, accepted by any listener, bound now or before. */
  public OpenConnections connections() {
    return connections;
  }

  /** A bound listener's server channel, whose socket options a test reads back. */
  synchronized Channel channel(String listenerName) {
    Bound b = bound.get(listenerName);
    if (b == null) {
      throw new IllegalArgumentException("no listener named " + listenerName);
    }
    return b.channel();
  }

  /** The address a listener is bound to; with port 0 in config, the port the OS chose. */
  public synchronized InetSocketAddress address(String listenerName) {
    Bound b = bound.get(listenerName);
    if (b == null) {
      throw new IllegalArgumentException("no listener named " + listenerName);
    }
    return (InetSocketAddress) b.channel().localAddress();
  }

  /** Every bound listener's name and address, in config order. */
  public synchronized Map<String, InetSocketAddress> addresses() {
    Map<String, InetSocketAddress> out = new LinkedHashMap<>();
    bound.forEach((name, b) -> out.put(name, (InetSocketAddress) b.channel().localAddress()));
    return out;
  }

  /** How many listeners are bound, and where: {@code main=/127.0.0.1:8443, ...}. */
  public synchronized String describe() {
    StringBuilder sb = new StringBuilder();
    bound.forEach(
        (name, b) ->
            sb.append(sb.length() == 0 ? "" : ", ")
                .append(name)
                .append('=')
                .append(b.channel().localAddress()));
    return bound.size() + " listener(s) " + sb;
  }
}
