package io.tollgate.route;

import io.tollgate.config.HttpAction;
import io.tollgate.config.RouteMode;
import io.tollgate.pool.Pool;
import io.tollgate.tls.BackendTls;
import io.tollgate.tls.ServerTls;
import java.util.BitSet;
import java.util.List;
import java.util.Objects;

/**
 * Where a connection goes once its SNI is known, and the TLS it needs.
 *
 * @param name for logs and metrics: the route's first host pattern, or {@code default}
 * @param serverTls the client-facing TLS for offload and reencrypt; null for passthrough
 * @param backendTls the TLS toward the pool for reencrypt; null otherwise
 * @param matchAlpn the route applies to hellos offering one of these protocols only; empty: any
 * @param httpPool where an http listener relays requests for this route's hosts; null: none
 * @param http what an http listener answers when there is no http pool; null: the listener's
 * @param listeners the indices (in the config's listener order) of the listeners the route applies
 *     on; null for every listener
 * @param access who may use the route; null for everyone
 */
public record Route(
    String name,
    RouteMode mode,
    Pool pool,
    ServerTls serverTls,
    BackendTls backendTls,
    List<String> matchAlpn,
    Pool httpPool,
    HttpAction http,
    BitSet listeners,
    SourceFilter access) {

  /** A passthrough route. */
  public Route(String name, RouteMode mode, Pool pool) {
    this(name, mode, pool, null, null);
  }

  /** A route for any ALPN, without plain-HTTP settings, on every listener, for every client. */
  public Route(String name, RouteMode mode, Pool pool, ServerTls serverTls, BackendTls backendTls) {
    this(name, mode, pool, serverTls, backendTls, List.of(), null, null, null, null);
  }

  /** A route for any ALPN, without plain-HTTP settings, on these listeners, for these clients. */
  public Route(
      String name,
      RouteMode mode,
      Pool pool,
      ServerTls serverTls,
      BackendTls backendTls,
      BitSet listeners,
      SourceFilter access) {
    this(name, mode, pool, serverTls, backendTls, List.of(), null, null, listeners, access);
  }

  /** Whether the route applies on the listener with this index. */
  public boolean appliesOn(int listener) {
    return listeners == null || listeners.get(listener);
  }

  public Route {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(mode, "mode");
    Objects.requireNonNull(pool, "pool");
    if (mode.terminatesTls() != (serverTls != null)) {
      throw new IllegalArgumentException(name + ": server TLS goes with offload and reencrypt");
    }
    if ((mode == RouteMode.REENCRYPT) != (backendTls != null)) {
      throw new IllegalArgumentException(name + ": backend TLS goes with reencrypt only");
    }
    matchAlpn = List.copyOf(matchAlpn);
  }
}
