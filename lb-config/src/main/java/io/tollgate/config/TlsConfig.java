package io.tollgate.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * {@code tollgate.tls}: settings shared by every offload and reencrypt route.
 *
 * @param sessionTickets whether TLS session tickets are issued (default true)
 * @param sessionTicketKeys file of ticket keys shared by a fleet (first key encrypts, all decrypt);
 *     absent: each node makes random keys at start
 * @param sessionCacheSize server-side session cache entries (default 20000; 0 turns it off)
 * @param sessionTimeout how long a session may be resumed (default 5m)
 */
public record TlsConfig(
    boolean sessionTickets,
    Optional<Path> sessionTicketKeys,
    int sessionCacheSize,
    Duration sessionTimeout) {

  public static final TlsConfig DEFAULTS =
      new TlsConfig(true, Optional.empty(), 20_000, Duration.ofMinutes(5));
}
