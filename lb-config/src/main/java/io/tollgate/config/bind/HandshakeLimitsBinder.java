package io.tollgate.config.bind;

import io.tollgate.config.HandshakeLimits;
import io.tollgate.config.Limits;
import io.tollgate.config.RouteMode;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Binds handshake admission (issue 16): {@code tollgate.limits.per-route}, every route's default,
 * and a route's own {@code limits}, which overrides it key by key. Only offload and reencrypt
 * routes do TLS handshakes, so only they may have them.
 */
final class HandshakeLimitsBinder {
  private HandshakeLimitsBinder() {}

  /** {@code limits.per-route}: rate and cap required (reference.conf has them), burst optional. */
  static Optional<HandshakeLimits> defaults(Node node) {
    if (!Readers.required(node, Schema.PER_ROUTE)
        || Readers.object(node, Schema.PER_ROUTE_SHAPE, Schema.PER_ROUTE.expected()).isEmpty()) {
      return Optional.empty();
    }
    Node rateNode = node.child(Schema.HANDSHAKES_PER_SECOND.name());
    Node concurrentNode = node.child(Schema.CONCURRENT_HANDSHAKES.name());
    OptionalInt rate =
        Readers.required(rateNode, Schema.HANDSHAKES_PER_SECOND) ? rate(rateNode) : empty();
    OptionalInt concurrent =
        Readers.required(concurrentNode, Schema.CONCURRENT_HANDSHAKES)
            ? concurrent(concurrentNode)
            : empty();
    if (rate.isEmpty() || concurrent.isEmpty()) {
      return Optional.empty();
    }
    OptionalInt burst = burst(node, rate.getAsInt(), rate.getAsInt());
    if (burst.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(
        new HandshakeLimits(rate.getAsInt(), burst.getAsInt(), concurrent.getAsInt()));
  }

  /**
   * The limits in force on {@code route}: the keys of its {@code limits} it sets, the defaults for
   * the others; {@link HandshakeLimits#NONE} for a passthrough route, which may not set them.
   */
  static Optional<HandshakeLimits> route(
      Node route, Optional<RouteMode> mode, HandshakeLimits defaults) {
    Node node = route.child(Schema.ROUTE_LIMITS.name());
    if (!node.exists()) {
      return Optional.of(
          mode.map(RouteMode::terminatesTls).orElse(false) ? defaults : HandshakeLimits.NONE);
    }
    if (Readers.object(node, Schema.ROUTE_LIMITS_SHAPE, Schema.ROUTE_LIMITS.expected()).isEmpty()) {
      return Optional.empty();
    }
    Node rateNode = node.child(Schema.HANDSHAKES_PER_SECOND.name());
    Node concurrentNode = node.child(Schema.CONCURRENT_HANDSHAKES.name());
    OptionalInt rate = rateNode.exists() ? rate(rateNode) : OptionalInt.of(defaults.perSecond());
    OptionalInt concurrent =
        concurrentNode.exists()
            ? concurrent(concurrentNode)
            : OptionalInt.of(defaults.concurrent());
    if (rate.isEmpty() || concurrent.isEmpty()) {
      return Optional.empty();
    }
    // A route's own rate comes with a burst of its own; without one it keeps the default's.
    int burstIfAbsent = rateNode.exists() ? rate.getAsInt() : defaults.burst();
    OptionalInt burst = burst(node, rate.getAsInt(), burstIfAbsent);
    if (burst.isEmpty()) {
      return Optional.empty();
    }
    if (mode.isPresent() && !mode.get().terminatesTls()) {
      node.error(
          "handshake limits are for offload and reencrypt routes: a passthrough route's TLS"
              + " handshake is its servers' work, not Tollgate's (expected no limits here; to"
              + " bound a passthrough tenant use max-connections, or limits.per-source)");
      return Optional.empty();
    }
    return Optional.of(
        new HandshakeLimits(rate.getAsInt(), burst.getAsInt(), concurrent.getAsInt()));
  }

  /** {@code handshakes-burst} beside a rate: 1..MAX if written, and only with a rate. */
  private static OptionalInt burst(Node parent, int rate, int ifAbsent) {
    Node node = parent.child(Schema.HANDSHAKES_BURST.name());
    if (!node.exists()) {
      return OptionalInt.of(rate == 0 ? 0 : ifAbsent);
    }
    OptionalInt burst =
        Readers.intInRange(node, Schema.HANDSHAKES_BURST, 1, HandshakeLimits.MAX_PER_SECOND);
    if (burst.isPresent() && rate == 0) {
      node.error(
          "handshakes-burst has no effect without a handshake rate (expected"
              + " handshakes-per-second = N beside it, or in limits.per-route)");
      return empty();
    }
    return burst;
  }

  private static OptionalInt rate(Node node) {
    return Readers.intInRange(
        node, Schema.HANDSHAKES_PER_SECOND, 0, HandshakeLimits.MAX_PER_SECOND);
  }

  private static OptionalInt concurrent(Node node) {
    return Readers.intInRange(node, Schema.CONCURRENT_HANDSHAKES, 0, Limits.MAX_MAX_CONNECTIONS);
  }

  private static OptionalInt empty() {
    return OptionalInt.empty();
  }
}
