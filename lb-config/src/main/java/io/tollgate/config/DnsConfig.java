package io.tollgate.config;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * {@code tollgate.dns}: the resolver DNS-aware pools ask (see {@link PoolDnsConfig}).
 *
 * @param servers name servers to ask, in order; empty means those of {@code /etc/resolv.conf}
 * @param timeout how long one query may take before it counts as failed
 */
public record DnsConfig(List<HostPort> servers, Duration timeout) {
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(2);

  /** The system's name servers, 2 s per query. */
  public static final DnsConfig SYSTEM = new DnsConfig(List.of(), DEFAULT_TIMEOUT);

  public DnsConfig {
    servers = List.copyOf(servers);
    Objects.requireNonNull(timeout, "timeout");
    if (timeout.isZero() || timeout.isNegative()) {
      throw new IllegalArgumentException("timeout must be positive");
    }
  }
}
