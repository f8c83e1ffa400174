package io.tollgate.limits;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.netty.channel.Channel;
import io.tollgate.config.ListenerConfig;
import io.tollgate.config.RouteConfig;
import io.tollgate.config.TollgateConfig;
import io.tollgate.connection.CloseReason;
import io.tollgate.connection.Connection;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * Counts open client connections globally, per listener, per route and per client address, and new
 * connections per second per client address; refuses a connection that would exceed a limit. One
 * instance per Tollgate, outliving reloads: a reload changes the limits ({@link #apply}), and the
 * connections open under the old config keep counting.
 *
 * <p>Memory stays bounded whatever the clients do: an address has a concurrent count only while it
 * has open connections (so at most {@code limits.max-connections} entries), and rate buckets live
 * in a Caffeine cache capped at {@link #MAX_RATE_SOURCES} entries that forgets an address after
 * {@link #RATE_IDLE} without connections (by then its bucket would be full again anyway). Past the
 * cap the least recently seen addresses are forgotten, which can only let them in.
 *
 * <p>Counters are taken when a connection is admitted and given back when its channel closes; every
 * check is one atomic increment that is undone on refusal, so limits hold under races.
 *
 * <p>A "source" is an IPv4 address, or an IPv6 prefix of {@code limits.per-source.ipv6-prefix} bits
 * (default /64): one IPv6 host usually holds a whole /64 and could otherwise open its limit from
 * each of 2^64 addresses. A reload that changes the prefix applies to new connections; open ones
 * give back the slot they took.
 */
public final class ConnectionLimits {
  static final int MAX_RATE_SOURCES = 200_000;
  static final Duration RATE_IDLE = Duration.ofSeconds(2);

  private final LongSupplier nanoTime;
  private final AtomicInteger open = new AtomicInteger();
  private final Map<String, AtomicInteger> perListener = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> perRoute = new ConcurrentHashMap<>();
  private final Map<InetAddress, AtomicInteger> perSource = new ConcurrentHashMap<>();
  private final Cache<InetAddress, TokenBucket> rates;
  private final HandshakeAdmission handshakes;
  private final RefusalTarpit tarpit;
  private volatile Settings settings;

  /** Limits as one config sets them; 0 means no limit throughout. */
  private record Settings(
      int global,
      int perSource,
      int perSourceRate,
      int ipv6Prefix,
      Map<String, Integer> listeners,
      Map<String, Integer> routes) {}

  public ConnectionLimits(TollgateConfig config) {
    this(config, System::nanoTime);
  }

  ConnectionLimits(TollgateConfig config, LongSupplier nanoTime) {
    this.nanoTime = nanoTime;
    this.rates =
        Caffeine.newBuilder()
            .maximumSize(MAX_RATE_SOURCES)
            .expireAfterAccess(RATE_IDLE)
            .ticker(nanoTime::getAsLong)
            .executor(
                Runnable::run) // upkeep on the caller's thread: no pool hand-off per connection
            .build();
    this.handshakes = new HandshakeAdmission(config, nanoTime);
    this.tarpit = new RefusalTarpit(config);
    apply(config);
  }

  /** The per-route admission of TLS handshakes, applied with these limits at each reload. */
  public HandshakeAdmission handshakes() {
    return handshakes;
  }

  /** How refused handshakes are paced, applied with these limits at each reload. */
  public RefusalTarpit tarpit() {
    return tarpit;
  }

  /** Takes the limits of a new config; open connections stay counted. */
  public void apply(TollgateConfig config) {
    handshakes.apply(config);
    tarpit.apply(config);
    settings = settingsOf(config);
  }

  /**
   * Computes what {@link #apply} would put in force and drops it: a reload rehearsal runs this, so
   * the loops over every route that only a reload runs (10,000 at a time) are compiled before the
   * first real one instead of interpreted in it.
   */
  public void rehearse(TollgateConfig config) {
    HandshakeAdmission.settingsOf(config);
    settingsOf(config);
  }

  private static Settings settingsOf(TollgateConfig config) {
    Map<String, Integer> listeners = new HashMap<>();
    for (ListenerConfig l : config.listeners()) {
      if (l.maxConnections() > 0) {
        listeners.put(l.name(), l.maxConnections());
      }
    }
    Map<String, Integer> routes = new HashMap<>();
    for (RouteConfig r : config.routes()) {
      if (r.maxConnections() > 0) {
        routes.put(r.name(), r.maxConnections());
      }
    }
    return new Settings(
        config.limits().maxConnections(),
        config.limits().perSourceMaxConnections(),
        config.limits().perSourceNewPerSecond(),
        config.limits().perSourceIpv6Prefix(),
        Map.copyOf(listeners),
        Map.copyOf(routes));
  }

  /**
   * Admits a just-accepted connection, or says which limit it is over. The most specific limit is
   * checked first, so a flood from one address is reported as that address's. When admitted, the
   * counts are given back when {@code channel} closes.
   *
   * @return null when admitted, else the close reason
   */
  public CloseReason admit(Channel channel, Connection conn) {
    return admit(channel, conn, true);
  }

  /**
   * As {@link #admit(Channel, Connection)}.
   *
   * @param checkSource false on listeners behind another balancer, whose real source arrives in a
   *     PROXY header: {@link #admitSource} is called once it is known
   */
  public CloseReason admit(Channel channel, Connection conn, boolean checkSource) {
    Settings s = settings;
    InetAddress source = checkSource ? source(conn.client(), s.ipv6Prefix()) : null;
    CloseReason over = takeSource(source, s);
    if (over != null) {
      return over;
    }
    boolean sourceTaken = source != null && s.perSource() > 0;
    AtomicInteger listener = perListener.computeIfAbsent(conn.listener(), n -> new AtomicInteger());
    int listenerMax = s.listeners().getOrDefault(conn.listener(), 0);
    if (!take(listener, listenerMax)) {
      releaseSource(source, sourceTaken);
      return CloseReason.LIMIT_LISTENER;
    }
    if (!take(open, s.global())) {
      listener.decrementAndGet();
      releaseSource(source, sourceTaken);
      return CloseReason.LIMIT_GLOBAL;
    }
    channel
        .closeFuture()
        .addListener(
            f -> {
              open.decrementAndGet();
              listener.decrementAndGet();
              releaseSource(source, sourceTaken);
            });
    return null;
  }

  /**
   * The per-source limits for the connection's client address ({@link Connection#client()}: the
   * socket's peer, or the address a trusted PROXY header named). A slot taken is given back when
   * {@code channel} closes.
   *
   * @return null when admitted, else {@link CloseReason#LIMIT_SOURCE_RATE} or {@link
   *     CloseReason#LIMIT_SOURCE}
   */
  public CloseReason admitSource(Channel channel, Connection conn) {
    Settings s = settings;
    InetAddress source = source(conn.client(), s.ipv6Prefix());
    CloseReason over = takeSource(source, s);
    if (over == null && source != null && s.perSource() > 0) {
      channel.closeFuture().addListener(f -> releaseSource(source, true));
    }
    return over;
  }

  /** Rate token and concurrent slot for {@code source} (null: nothing to check). */
  private CloseReason takeSource(InetAddress source, Settings s) {
    if (source == null) {
      return null;
    }
    if (s.perSourceRate() > 0) {
      long now = nanoTime.getAsLong();
      TokenBucket bucket = rates.get(source, a -> new TokenBucket(s.perSourceRate(), now));
      if (!bucket.tryTake(s.perSourceRate(), now)) {
        return CloseReason.LIMIT_SOURCE_RATE;
      }
    }
    if (s.perSource() > 0 && !takeSource(source, s.perSource())) {
      return CloseReason.LIMIT_SOURCE;
    }
    return null;
  }

  /**
   * Admits a connection to {@code route} once the SNI picked it; the count is given back when
   * {@code channel} closes.
   *
   * @return null when admitted, else {@link CloseReason#LIMIT_ROUTE}
   */
  public CloseReason admitRoute(Channel channel, String route) {
    AtomicInteger count = perRoute.computeIfAbsent(route, n -> new AtomicInteger());
    if (!take(count, settings.routes().getOrDefault(route, 0))) {
      return CloseReason.LIMIT_ROUTE;
    }
    channel.closeFuture().addListener(f -> count.decrementAndGet());
    return null;
  }

  /** The close detail for a limit's reason: which setting was reached. */
  public static String describe(CloseReason reason) {
    return switch (reason) {
      case LIMIT_GLOBAL -> "limits.max-connections reached";
      case LIMIT_LISTENER -> "the listener's max-connections reached";
      case LIMIT_SOURCE -> "limits.per-source.max-connections reached for this address";
      case LIMIT_SOURCE_RATE -> "limits.per-source.new-per-second exceeded by this address";
      case LIMIT_ROUTE -> "the route's max-connections reached";
      default -> reason.label();
    };
  }

  /**
   * Client connections admitted and still open: taken after every other slot of {@link #admit}, so
   * a connection counted here holds its global, listener and (unless the source waits for a PROXY
   * header) per-source slots.
   */
  public int openConnections() {
    return open.get();
  }

  /**
   * Per-source slots {@code client} holds now: its connections admitted and not yet given back.
   * Unlike a count of open channels, this moves exactly when the per-source limit's count does; 0
   * while {@code limits.per-source.max-connections} is off (nothing is counted then).
   */
  public int openFrom(InetAddress client) {
    InetAddress source = source(new InetSocketAddress(client, 0), settings.ipv6Prefix());
    AtomicInteger count = perSource.get(source);
    return count == null ? 0 : count.get();
  }

  /** Connections {@code route} admitted and not yet given back. */
  public int openOnRoute(String route) {
    AtomicInteger count = perRoute.get(route);
    return count == null ? 0 : count.get();
  }

  /** Addresses with open connections: the size of the per-source table. */
  int trackedSources() {
    return perSource.size();
  }

  /** Addresses with a rate bucket (after pending evictions). */
  long rateSources() {
    rates.cleanUp();
    return rates.estimatedSize();
  }

  private static boolean take(AtomicInteger count, int max) {
    if (max <= 0) {
      count.incrementAndGet(); // still counted, so a reload that adds a limit sees the truth
      return true;
    }
    if (count.incrementAndGet() > max) {
      count.decrementAndGet();
      return false;
    }
    return true;
  }

  private boolean takeSource(InetAddress source, int max) {
    boolean[] taken = new boolean[1];
    perSource.compute(
        source,
        (a, count) -> {
          AtomicInteger c = count == null ? new AtomicInteger() : count;
          if (c.get() < max) {
            c.incrementAndGet();
            taken[0] = true;
          }
          return c.get() == 0 ? null : c;
        });
    return taken[0];
  }

  private void releaseSource(InetAddress source, boolean taken) {
    if (taken) {
      perSource.computeIfPresent(source, (a, c) -> c.decrementAndGet() <= 0 ? null : c);
    }
  }

  /**
   * The key the per-source limits count {@code client} under: its IPv4 address, or its IPv6 address
   * with every bit after the first {@code ipv6Prefix} cleared; null when it is not an IP socket
   * address.
   */
  static InetAddress source(SocketAddress client, int ipv6Prefix) {
    if (!(client instanceof InetSocketAddress isa) || isa.getAddress() == null) {
      return null;
    }
    InetAddress address = isa.getAddress();
    if (!(address instanceof Inet6Address) || ipv6Prefix >= 128) {
      return address;
    }
    byte[] bytes = address.getAddress(); // 16 bytes; the scope id is dropped with the host bits
    for (int bit = ipv6Prefix; bit < 128; bit++) {
      bytes[bit >> 3] &= (byte) ~(0x80 >>> (bit & 7));
    }
    try {
      return InetAddress.getByAddress(bytes); // no name look-up for a byte array
    } catch (UnknownHostException e) {
      throw new IllegalStateException(e); // cannot happen: 16 bytes
    }
  }
}
