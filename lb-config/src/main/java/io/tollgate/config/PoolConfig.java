package io.tollgate.config;

import java.util.List;
import java.util.Objects;

/**
 * One entry of {@code tollgate.pools}.
 *
 * @param name the key under {@code pools}
 * @param servers at least one
 * @param connectAttempts how many servers to try, in balancing order, when connecting fails
 *     before any byte was sent (at least 1)
 */
public record PoolConfig(String name, List<ServerConfig> servers, int connectAttempts) {
  public PoolConfig {
    Objects.requireNonNull(name, "name");
    servers = List.copyOf(servers);
    if (servers.isEmpty()) {
      throw new IllegalArgumentException("pool " + name + " has no servers");
    }
    if (connectAttempts < 1) {
      throw new IllegalArgumentException("connectAttempts must be >= 1");
    }
  }
}
