package io.tollgate.route;

import io.tollgate.config.RouteMode;
import io.tollgate.pool.Pool;
import io.tollgate.tls.BackendTls;
import io.tollgate.tls.ServerTls;
import java.util.Objects;

/**
 * Where a connection goes once its SNI is known, and the TLS it needs.
 *
 * @param name for logs and metrics: the route's first host pattern, or {@code default}
 * @param serverTls the client-facing TLS for offload and reencrypt; null for passthrough
 * @param backendTls the TLS toward the pool for reencrypt; null otherwise
 */
public record Route(
    String name, RouteMode mode, Pool pool, ServerTls serverTls, BackendTls backendTls) {

  /** A passthrough route. */
  public Route(String name, RouteMode mode, Pool pool) {
    this(name, mode, pool, null, null);
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
  }
}
