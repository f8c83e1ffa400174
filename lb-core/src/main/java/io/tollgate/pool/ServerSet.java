package io.tollgate.pool;

import java.util.List;

/**
 * A pool's servers at one moment, with what balancing keeps per server list (round-robin scores,
 * the hash ring). Immutable apart from the round-robin scores; {@link Pool} swaps a whole new one
 * in when DNS records or the admin API change the servers, so a connection picking reads one
 * consistent list without a lock.
 */
final class ServerSet {
  final List<Backend> servers;
  final SmoothWeightedRoundRobin roundRobin;

  /** Null unless the pool balances by hashing. */
  final HashRing ring;

  /** Whether some server is a backup, used only while no other is up and not draining. */
  final boolean hasBackups;

  ServerSet(List<Backend> servers, boolean hashing) {
    this.servers = List.copyOf(servers);
    this.hasBackups = this.servers.stream().anyMatch(Backend::backup);
    this.roundRobin = new SmoothWeightedRoundRobin(this.servers.size());
    this.ring = hashing && !this.servers.isEmpty() ? new HashRing(this.servers) : null;
  }
}
