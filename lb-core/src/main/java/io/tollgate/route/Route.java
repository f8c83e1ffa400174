package io.tollgate.route;

import io.tollgate.config.RouteMode;
import io.tollgate.pool.Pool;
import java.util.Objects;

/**
 * Where a connection goes once its SNI is known.
 *
 * @param name for logs and metrics: the route's first host pattern, or {@code default}
 */
public record Route(String name, RouteMode mode, Pool pool) {
  public Route {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(mode, "mode");
    Objects.requireNonNull(pool, "pool");
  }
}
