package io.tollgate.config;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One entry of {@code tollgate.routes}.
 *
 * @param hosts normalised host patterns: lower case, no trailing dot; either an exact name ({@code
 *     pass.test}) or a wildcard whose first label is {@code *} ({@code *.wild.test})
 * @param mode what to do with matching connections
 * @param pool name of the pool in {@link TollgateConfig#pools()}
 * @param tls the client-facing TLS: present exactly when the mode terminates TLS (offload,
 *     reencrypt)
 * @param maxConnections client connections open at once on this route, so one tenant cannot take
 *     every connection; 0 = no limit of its own
 * @param matchAlpn {@code match-alpn}: the route applies only to hellos that offer one of these
 *     protocols (checked after the host name); empty: any hello for its hosts (the fallback among
 *     routes sharing a host)
 * @param httpPool {@code http-pool}: the pool plain-HTTP requests for these hosts are relayed to by
 *     an http listener
 * @param http {@code http}: what an http listener answers requests for these hosts with when there
 *     is no http-pool; empty: the listener's own {@code http}
 * @param listeners names of the listeners the route applies on; empty = every listener
 * @param access which client addresses may use the route
 * @param handshakes the admission of the route's client-facing TLS handshakes in force: its own
 *     {@code limits}, else {@code limits.per-route}; {@link HandshakeLimits#NONE} for passthrough
 */
public record RouteConfig(
    List<String> hosts,
    RouteMode mode,
    String pool,
    Optional<ServerTlsConfig> tls,
    int maxConnections,
    List<String> matchAlpn,
    Optional<String> httpPool,
    Optional<HttpAction> http,
    List<String> listeners,
    AccessRules access,
    HandshakeLimits handshakes) {

  /** A route for any ALPN, without plain-HTTP settings, on every listener, open to every client. */
  public RouteConfig(
      List<String> hosts,
      RouteMode mode,
      String pool,
      Optional<ServerTlsConfig> tls,
      int maxConnections) {
    this(
        hosts,
        mode,
        pool,
        tls,
        maxConnections,
        List.of(),
        Optional.empty(),
        Optional.empty(),
        List.of(),
        AccessRules.NONE,
        HandshakeLimits.NONE);
  }

  /** A passthrough route. */
  public RouteConfig(List<String> hosts, RouteMode mode, String pool) {
    this(hosts, mode, pool, Optional.empty());
  }

  /** A route without a connection limit. */
  public RouteConfig(
      List<String> hosts, RouteMode mode, String pool, Optional<ServerTlsConfig> tls) {
    this(hosts, mode, pool, tls, 0);
  }

  public RouteConfig {
    hosts = List.copyOf(hosts);
    if (hosts.isEmpty()) {
      throw new IllegalArgumentException("a route needs at least one host");
    }
    Objects.requireNonNull(mode, "mode");
    Objects.requireNonNull(pool, "pool");
    Objects.requireNonNull(tls, "tls");
    if (tls.isPresent() != mode.terminatesTls()) {
      throw new IllegalArgumentException(
          "tls settings belong to offload and reencrypt routes only, and those need them");
    }
    if (maxConnections < 0) {
      throw new IllegalArgumentException("negative maxConnections");
    }
    matchAlpn = List.copyOf(matchAlpn);
    Objects.requireNonNull(httpPool, "httpPool");
    Objects.requireNonNull(http, "http");
    listeners = List.copyOf(listeners);
    Objects.requireNonNull(access, "access");
    Objects.requireNonNull(handshakes, "handshakes");
    if (handshakes.any() && !mode.terminatesTls()) {
      throw new IllegalArgumentException("handshake limits belong to offload and reencrypt routes");
    }
  }

  /** Whether the route applies on the listener named {@code listener}. */
  public boolean appliesOn(String listener) {
    return listeners.isEmpty() || listeners.contains(listener);
  }

  /**
   * A short name for logs and metrics: the first host pattern, followed by the {@code match-alpn}
   * protocols in brackets when there are some ({@code shop.test[acme-tls/1]}), so the routes that
   * share a host have names of their own.
   */
  public String name() {
    return matchAlpn.isEmpty()
        ? hosts.get(0)
        : hosts.get(0) + "[" + String.join(",", matchAlpn) + "]";
  }
}
