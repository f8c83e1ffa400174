package io.tollgate.limits;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.ReferenceCountUtil;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.tollgate.config.TarpitLimits;
import io.tollgate.config.TollgateConfig;
import io.tollgate.connection.CloseReason;
import io.tollgate.connection.Connection;
import io.tollgate.connection.InputAfterFin;
import io.tollgate.connection.Refusal;
import io.tollgate.connection.TlsAlert;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Paces handshakes refused by a route's admission ({@code limits.tarpit}, issue 16). Refused at
 * once, a closed-loop flooder reconnects at once, and its accepts, hellos and closes then cost the
 * node more than the handshakes it was refused; held for {@code delay} with reads off before its
 * alert and close, each of its connections makes one attempt per delay. A held connection costs a
 * descriptor, a timer and a few hundred bytes of state, nothing per byte the client sends.
 *
 * <p>Bounded over every route ({@code max-held}) and per route ({@code max-held-per-route}); past a
 * bound the refusal closes at once, as without a tarpit. The count per route is that route's own: a
 * route with its bound full holds no fewer of another route's refusals (only the total can), and
 * nothing here is consulted for admission. The close reason is the refusal's from the start, so a
 * client that leaves while held is logged and counted as refused.
 */
public final class RefusalTarpit {
  /** The pipeline name of the handler that swallows what a held connection already sent. */
  static final String HOLD = "tollgate.tarpit";

  private final AtomicInteger held = new AtomicInteger();
  private final Map<String, AtomicInteger> heldByRoute = new ConcurrentHashMap<>();
  private final LongAdder delayed = new LongAdder();
  private final LongAdder boundFull = new LongAdder();
  private volatile TarpitLimits settings;

  RefusalTarpit(TollgateConfig config) {
    apply(config);
  }

  /** Takes the bounds and delay of a new config; connections held keep their deadline. */
  void apply(TollgateConfig config) {
    settings = config.limits().tarpit();
  }

  /**
   * Refuses the connection of {@code ctx} (whose hello picked {@code route}) with {@code reason},
   * {@code detail} and {@code alert}: after the tarpit's delay when a place is free, else at once.
   * Called on the channel's event loop, with its reads off (the hello inspector turned them off).
   */
  public void refuse(
      ChannelHandlerContext ctx, String route, CloseReason reason, String detail, TlsAlert alert) {
    Channel ch = ctx.channel();
    TarpitLimits limits = settings;
    if (!limits.holds() || !ch.isActive() || !take(route, limits)) {
      if (limits.holds()) {
        boundFull.increment();
      }
      Refusal.refuse(ch, reason, detail, alert);
      return;
    }
    delayed.increment();
    Connection conn = Connection.of(ch);
    if (conn != null) {
      conn.closeReason(reason, detail);
    }
    ch.closeFuture().addListener(f -> giveBack(route));
    ch.config().setAutoRead(false);
    // A held client that leaves must free its place at once: its FIN is read to the end, as Netty
    // does (Hold drops what comes with it), not left for when reads resume (they do not here).
    InputAfterFin.toEnd(ch);
    // The hello the inspector buffered goes to whatever is behind it once it leaves: here.
    ctx.pipeline().addAfter(ctx.name(), HOLD, new Hold());
    ch.eventLoop()
        .schedule(
            () -> Refusal.refuse(ch, reason, detail, alert),
            limits.delay().toNanos(),
            TimeUnit.NANOSECONDS);
  }

  private boolean take(String route, TarpitLimits limits) {
    if (held.incrementAndGet() > limits.maxHeld()) {
      held.decrementAndGet();
      return false;
    }
    // Under the map's lock for the route, as giveBack's removal at zero: a count taken from an
    // entry being forgotten by another event loop would be lost.
    boolean[] taken = {false};
    heldByRoute.compute(
        route,
        (r, n) -> {
          if (n != null && n.get() >= limits.maxHeldPerRoute()) {
            return n;
          }
          AtomicInteger count = n == null ? new AtomicInteger() : n;
          count.incrementAndGet();
          taken[0] = true;
          return count;
        });
    if (!taken[0]) {
      held.decrementAndGet();
    }
    return taken[0];
  }

  private void giveBack(String route) {
    held.decrementAndGet();
    // Forget a route once nothing of it is held: ten thousand tenants keep only the busy ones.
    heldByRoute.computeIfPresent(route, (r, n) -> n.decrementAndGet() == 0 ? null : n);
  }

  /** Connections held now for {@code route} (tests, metrics). */
  public int held(String route) {
    AtomicInteger n = heldByRoute.get(route);
    return n == null ? 0 : n.get();
  }

  /** Connections held now over every route (tests, metrics). */
  public int held() {
    return held.get();
  }

  /** Routes with connections held (tests). */
  int trackedRoutes() {
    return heldByRoute.size();
  }

  /**
   * Adds {@code tollgate_tarpit_held{route}} (connections held now, routes holding some), {@code
   * tollgate_tarpit_delayed_total} (refusals held before their close) and {@code
   * tollgate_tarpit_full_total} (refusals closed at once because a bound was full).
   */
  public void registerMetrics(PrometheusRegistry registry) {
    GaugeWithCallback.builder()
        .name("tollgate_tarpit_held")
        .help("Connections refused by their route's handshake admission, held before the close")
        .labelNames("route")
        .callback(cb -> heldByRoute.forEach((route, n) -> cb.call(n.get(), route)))
        .register(registry);
    CounterWithCallback.builder()
        .name("tollgate_tarpit_delayed_total")
        .help("Handshake refusals held for limits.tarpit.delay before their alert and close")
        .callback(cb -> cb.call(delayed.sum()))
        .register(registry);
    CounterWithCallback.builder()
        .name("tollgate_tarpit_full_total")
        .help("Handshake refusals closed at once because a limits.tarpit bound was full")
        .callback(cb -> cb.call(boundFull.sum()))
        .register(registry);
  }

  /** Swallows what a held connection sent before its reads went off; its close ends the hold. */
  private static final class Hold extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ReferenceCountUtil.release(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      // Nothing asks for more: the connection stays unread until its refusal.
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof ChannelInputShutdownEvent) {
        ctx.close(); // the client is leaving: its place goes to the next refusal now
        return;
      }
      ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close(); // the client reset: the refusal's reason is already recorded
    }
  }
}
