package io.tollgate.health;

import java.net.InetSocketAddress;
import java.util.Objects;

/**
 * Identifies a server's health state across config reloads: the pool it belongs to and its resolved
 * address. The same address in two pools has two states, because each pool may probe it
 * differently.
 */
public record ServerKey(String pool, InetSocketAddress address) {
  public ServerKey {
    Objects.requireNonNull(pool, "pool");
    Objects.requireNonNull(address, "address");
  }
}
