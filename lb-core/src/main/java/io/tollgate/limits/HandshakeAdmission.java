package io.tollgate.limits;

import io.netty.channel.Channel;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.GenericFutureListener;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.tollgate.config.HandshakeLimits;
import io.tollgate.config.RouteConfig;
import io.tollgate.config.TollgateConfig;
import io.tollgate.connection.CloseReason;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * Per-route admission of client-facing TLS handshakes (issue 16): {@code handshakes-per-second} (a
 * token bucket holding {@code handshakes-burst}) and {@code concurrent-handshakes}, from {@code
 * routes[].limits} or {@code limits.per-route}. Asked once the ClientHello picked an offload or
 * reencrypt route and before its SslHandler exists, so a refused handshake costs a map look-up, an
 * atomic or two and a close: none of the TLS engine, key exchange or signature a flood would
 * otherwise make the node pay for.
 *
 * <p>State is per route name, which is what identifies a route across reloads (its first host, and
 * its match-alpn protocols), and lives as long as the Tollgate: a reload changes the limits ({@link
 * #apply}), the handshakes in progress keep their slots and the bucket keeps its tokens. One
 * route's state is never consulted for another, so a route at its limit refuses only its own
 * handshakes. Routes without a limit have no state and cost one look-up.
 *
 * <p>A concurrent slot is taken at admission and given back exactly once, when the handshake ends
 * (success or failure, timeouts included) or the connection closes, whichever comes first.
 * Handshakes of a route that had no cap are not counted, so a reload that adds a cap counts from
 * zero: they all end within {@code timeouts.handshake}.
 */
public final class HandshakeAdmission {
  private final LongSupplier nanoTime;
  private final Map<String, RouteHandshakes> routes = new ConcurrentHashMap<>();
  private volatile Settings settings;

  /**
   * The limits one config sets: {@code byRoute} holds the routes whose limits differ from {@code
   * defaults} (which default routes and routes without a {@code limits} of their own use).
   */
  private record Settings(HandshakeLimits defaults, Map<String, HandshakeLimits> byRoute) {
    HandshakeLimits of(String route) {
      return byRoute.getOrDefault(route, defaults);
    }
  }

  HandshakeAdmission(TollgateConfig config, LongSupplier nanoTime) {
    this.nanoTime = nanoTime;
    apply(config);
  }

  /** Takes the limits of a new config; handshakes in progress keep their slots. */
  void apply(TollgateConfig config) {
    Settings s = settingsOf(config);
    settings = s;
    // Forget routes that no longer have a limit (or no longer exist): a node with ten thousand
    // tenants keeps state only for the limited ones. Handshakes in progress give their slot back
    // to the state they took it from, wherever it is.
    routes.keySet().removeIf(name -> !s.of(name).any());
  }

  /** The limits {@link #apply} puts in force for {@code config}; computes, changes nothing. */
  static Settings settingsOf(TollgateConfig config) {
    HandshakeLimits defaults = config.limits().perRoute();
    Map<String, HandshakeLimits> byRoute = new HashMap<>();
    for (RouteConfig r : config.routes()) {
      if (r.mode().terminatesTls() && !r.handshakes().equals(defaults)) {
        byRoute.put(r.name(), r.handshakes());
      }
    }
    return new Settings(defaults, Map.copyOf(byRoute));
  }

  /**
   * Admits a handshake of {@code route} on {@code channel}, or says which limit it is over (the cap
   * first, so a refusal by the cap costs no token). When admitted under a cap, the slot goes back
   * when {@code channel} closes or when the handshake given to {@link Ticket#until} ends.
   */
  public Ticket admit(Channel channel, String route) {
    HandshakeLimits limits = settings.of(route);
    if (!limits.any()) {
      return Ticket.UNCOUNTED;
    }
    RouteHandshakes state =
        routes.computeIfAbsent(route, n -> new RouteHandshakes(limits.burst(), nanoTime));
    AtomicInteger inProgress = null;
    if (limits.concurrent() > 0) {
      if (state.inProgress.incrementAndGet() > limits.concurrent()) {
        state.inProgress.decrementAndGet();
        return Ticket.CONCURRENCY_LIMITED;
      }
      inProgress = state.inProgress;
    }
    if (limits.perSecond() > 0
        && !state.bucket.tryTake(limits.perSecond(), limits.burst(), nanoTime.getAsLong())) {
      if (inProgress != null) {
        inProgress.decrementAndGet();
      }
      return Ticket.RATE_LIMITED;
    }
    if (inProgress == null) {
      return Ticket.UNCOUNTED;
    }
    Ticket ticket = new Ticket(null, inProgress);
    channel.closeFuture().addListener(ticket);
    return ticket;
  }

  /** Handshakes of {@code route} in progress that hold a slot of its cap (tests, metrics). */
  public int inProgress(String route) {
    RouteHandshakes state = routes.get(route);
    return state == null ? 0 : state.inProgress.get();
  }

  /**
   * Adds {@code tollgate_route_handshakes_in_progress{route}}: the handshakes holding a slot of
   * each capped route's {@code concurrent-handshakes}, read at scrape time.
   */
  public void registerMetrics(PrometheusRegistry registry) {
    GaugeWithCallback.builder()
        .name("tollgate_route_handshakes_in_progress")
        .help(
            "Client TLS handshakes in progress that hold a slot of their route's"
                + " concurrent-handshakes (routes with that cap only)")
        .labelNames("route")
        .callback(
            cb ->
                routes.forEach(
                    (name, state) -> {
                      if (settings.of(name).concurrent() > 0) {
                        cb.call(state.inProgress.get(), name);
                      }
                    }))
        .register(registry);
  }

  /** Routes with admission state (tests). */
  int trackedRoutes() {
    return routes.size();
  }

  /** The close detail for a refusal of a handshake of {@code route}. */
  public String describe(CloseReason reason, String route) {
    HandshakeLimits limits = settings.of(route);
    return switch (reason) {
      case HANDSHAKE_RATE_LIMITED ->
          "route "
              + route
              + " is over handshakes-per-second = "
              + limits.perSecond()
              + " (burst "
              + limits.burst()
              + ")";
      case HANDSHAKE_CONCURRENCY_LIMITED ->
          "route "
              + route
              + " has concurrent-handshakes = "
              + limits.concurrent()
              + " handshakes in progress";
      default -> reason.label();
    };
  }

  /** One route's bucket and count of handshakes in progress. */
  private static final class RouteHandshakes {
    final AtomicInteger inProgress = new AtomicInteger();
    final TokenBucket bucket;

    /** A full bucket: a route's first handshakes may come as a burst. */
    RouteHandshakes(int burst, LongSupplier nanoTime) {
      bucket = new TokenBucket(burst, nanoTime.getAsLong());
    }
  }

  /**
   * The outcome of {@link #admit}: {@link #refused()} is null when admitted. An admitted handshake
   * under a cap holds one slot, given back once: at the first of the channel's close and the end of
   * the handshake.
   */
  public static final class Ticket implements GenericFutureListener<Future<Object>> {
    static final Ticket UNCOUNTED = new Ticket(null, null);
    static final Ticket RATE_LIMITED = new Ticket(CloseReason.HANDSHAKE_RATE_LIMITED, null);
    static final Ticket CONCURRENCY_LIMITED =
        new Ticket(CloseReason.HANDSHAKE_CONCURRENCY_LIMITED, null);

    private final CloseReason refused;
    private final AtomicInteger inProgress;
    // Both futures that release the slot (the channel's close, the SslHandler's handshake)
    // notify on the channel's event loop, so a plain flag makes the release happen once.
    private boolean released;

    private Ticket(CloseReason refused, AtomicInteger inProgress) {
      this.refused = refused;
      this.inProgress = inProgress;
    }

    /** Why the handshake was refused, or null when it was admitted. */
    public CloseReason refused() {
      return refused;
    }

    /** Also gives the slot back when {@code handshake} (the SslHandler's) ends, either way. */
    public void until(Future<Channel> handshake) {
      if (inProgress != null) {
        handshake.addListener(this);
      }
    }

    @Override
    public void operationComplete(Future<Object> future) {
      if (!released) {
        released = true;
        inProgress.decrementAndGet();
      }
    }
  }
}
