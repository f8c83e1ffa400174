package io.tollgate.config;

import java.util.Objects;
import java.util.Optional;

/**
 * {@code tollgate.default-route} or a listener's {@code default-route}: where connections go whose
 * SNI matches no route, or that carry no SNI at all. Either {@code default-route = reject} or
 * {@code default-route { pool = NAME }} (mode defaults to passthrough); with {@code mode = offload}
 * or {@code reencrypt} it has a certificate of its own, served whatever name the client asked for
 * (clients that connect by IP address send none).
 *
 * @param tls present exactly when the mode terminates TLS
 * @param access which client addresses may use it
 */
public record DefaultRoute(
    boolean reject,
    RouteMode mode,
    String pool,
    Optional<ServerTlsConfig> tls,
    AccessRules access) {
  public static final DefaultRoute REJECT =
      new DefaultRoute(true, null, null, Optional.empty(), AccessRules.NONE);

  public DefaultRoute(boolean reject, RouteMode mode, String pool) {
    this(reject, mode, pool, Optional.empty(), AccessRules.NONE);
  }

  public DefaultRoute {
    Objects.requireNonNull(tls, "tls");
    Objects.requireNonNull(access, "access");
    if (!reject) {
      Objects.requireNonNull(mode, "mode");
      Objects.requireNonNull(pool, "pool");
      if (tls.isPresent() != mode.terminatesTls()) {
        throw new IllegalArgumentException(
            "tls settings belong to offload and reencrypt default routes only, and those need"
                + " them");
      }
    }
  }

  public static DefaultRoute toPool(RouteMode mode, String pool) {
    return new DefaultRoute(false, mode, pool);
  }
}
