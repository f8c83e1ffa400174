package io.tollgate.pool;

import io.tollgate.config.HostPort;
import java.net.InetSocketAddress;
import java.util.Objects;

/**
 * One server of a pool, with its address resolved once when the config snapshot is built (off
 * the event loops: connecting never does a DNS lookup on the data path).
 */
public final class Backend {
  private final HostPort configured;
  private final InetSocketAddress address;
  private final int weight;

  public Backend(HostPort configured, InetSocketAddress address, int weight) {
    this.configured = Objects.requireNonNull(configured, "configured");
    this.address = Objects.requireNonNull(address, "address");
    if (address.isUnresolved()) {
      throw new IllegalArgumentException("backend address must be resolved: " + address);
    }
    this.weight = weight;
  }

  /** The address as written in config, for logs. */
  public HostPort configured() {
    return configured;
  }

  /** Where to connect. */
  public InetSocketAddress address() {
    return address;
  }

  public int weight() {
    return weight;
  }

  @Override
  public String toString() {
    return configured.toString();
  }
}
