package io.tollgate.health;

import java.net.InetSocketAddress;
import java.util.Objects;

/**
 * Identifies a server's health state across config reloads: the pool it belongs to and its resolved
 * address. The same address in two pools has two states, because each pool may probe it
 * differently.
 *
 * <p>A class rather than a record only to keep its hash: a reload of 10,000 tenants looks every
 * server up several times, and a record's hash walks the address's four objects each time (cache
 * misses, most of a lookup's cost at that size).
 */
public final class ServerKey {
  private final String pool;
  private final InetSocketAddress address;
  private final int hash;

  public ServerKey(String pool, InetSocketAddress address) {
    this.pool = Objects.requireNonNull(pool, "pool");
    this.address = Objects.requireNonNull(address, "address");
    this.hash = 31 * pool.hashCode() + address.hashCode();
  }

  public String pool() {
    return pool;
  }

  public InetSocketAddress address() {
    return address;
  }

  @Override
  public boolean equals(Object o) {
    return o == this
        || (o instanceof ServerKey k
            && k.hash == hash
            && k.pool.equals(pool)
            && k.address.equals(address));
  }

  @Override
  public int hashCode() {
    return hash;
  }

  @Override
  public String toString() {
    return "ServerKey[pool=" + pool + ", address=" + address + "]";
  }
}
