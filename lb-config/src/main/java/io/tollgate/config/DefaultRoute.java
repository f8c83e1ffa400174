package io.tollgate.config;

import java.util.Objects;

/**
 * {@code tollgate.default-route}: where connections go whose SNI matches no route, or that carry no
 * SNI at all. Either {@code default-route = reject} or {@code default-route { pool = NAME }} (mode
 * defaults to passthrough).
 */
public record DefaultRoute(boolean reject, RouteMode mode, String pool) {
  public static final DefaultRoute REJECT = new DefaultRoute(true, null, null);

  public DefaultRoute {
    if (!reject) {
      Objects.requireNonNull(mode, "mode");
      Objects.requireNonNull(pool, "pool");
    }
  }

  public static DefaultRoute toPool(RouteMode mode, String pool) {
    return new DefaultRoute(false, mode, pool);
  }
}
