package io.tollgate.pool;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A named group of backend servers and the order in which a new connection tries them.
 *
 * <p>Every server is treated as up until health checking lands (lb-health); balancing is smooth
 * weighted round-robin.
 */
public final class Pool {
  private final String name;
  private final List<Backend> servers;
  private final int connectAttempts;
  private final SmoothWeightedRoundRobin balancer;

  public Pool(String name, List<Backend> servers, int connectAttempts) {
    this.name = Objects.requireNonNull(name, "name");
    this.servers = List.copyOf(servers);
    if (this.servers.isEmpty()) {
      throw new IllegalArgumentException("pool " + name + " has no servers");
    }
    this.connectAttempts = connectAttempts;
    this.balancer = new SmoothWeightedRoundRobin(this.servers);
  }

  public String name() {
    return name;
  }

  public List<Backend> servers() {
    return servers;
  }

  /**
   * The servers a new connection should try, in order: the balancer's pick first, then the
   * following servers in config order, each at most once and no more than
   * {@code connect-attempts} in all. Later entries are only used when connecting to the earlier
   * ones failed before any byte was sent.
   */
  public List<Backend> attemptOrder() {
    int first = balancer.next();
    int n = Math.min(connectAttempts, servers.size());
    List<Backend> order = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      order.add(servers.get((first + i) % servers.size()));
    }
    return order;
  }

  @Override
  public String toString() {
    return "pool " + name + " " + servers;
  }
}
