package io.tollgate.config;

import java.util.Objects;

/**
 * Resource bounds ({@code tollgate.limits}).
 *
 * @param maxClientHello largest ClientHello, in bytes of TLS records, Tollgate buffers before it
 *     gives up with {@code hello_too_large}; between {@link #MIN_CLIENT_HELLO} and {@link
 *     #MAX_CLIENT_HELLO}
 * @param maxConnections client connections open at once over every listener; 0 = no limit
 * @param perSourceMaxConnections client connections open at once from one IP address; 0 = no limit
 * @param perSourceNewPerSecond new connections per second one IP address may open (a token bucket
 *     holding one second's worth, so short bursts up to that many pass); 0 = no limit
 * @param perSourceIpv6Prefix IPv6 clients count as one source per prefix of this many bits (one
 *     host usually holds a whole /64), 1..128; IPv4 clients per address
 * @param perRoute {@code per-route}: the handshake admission of every route that does not set its
 *     own ({@code routes[].limits}); each route counts its own handshakes
 * @param tarpit {@code tarpit}: how handshakes refused by that admission are paced
 * @param handshakeSharePercent {@code handshake-share-percent}: while a worker also routes other
 *     tenants' connections, the most of its time queued TLS handshakes take, in percent (10..100;
 *     100 = no pacing)
 * @param receiveBuffer {@code receive-buffer}: SO_RCVBUF of every client and backend socket, in
 *     bytes; 0 leaves the kernel's autotuning. After a peer's FIN the transport reads what is left
 *     in that socket's receive queue whatever the other side can take, so this is also the most a
 *     peer that ends its side can make Tollgate hold for that direction
 */
public record Limits(
    int maxClientHello,
    int maxConnections,
    int perSourceMaxConnections,
    int perSourceNewPerSecond,
    int perSourceIpv6Prefix,
    HandshakeLimits perRoute,
    TarpitLimits tarpit,
    int handshakeSharePercent,
    int receiveBuffer) {
  /** Below this even a minimal TLS 1.3 hello with a post-quantum key share would not fit. */
  public static final int MIN_CLIENT_HELLO = 1024;

  /** Hard ceiling: as Envoy, never buffer more than 64 KiB of hello per connection. */
  public static final int MAX_CLIENT_HELLO = 64 * 1024;

  public static final int DEFAULT_MAX_CONNECTIONS = 100_000;
  public static final int DEFAULT_PER_SOURCE_MAX_CONNECTIONS = 0;
  public static final int DEFAULT_PER_SOURCE_NEW_PER_SECOND = 0;

  /** Ceiling of every connection count: beyond what one process can hold open. */
  public static final int MAX_MAX_CONNECTIONS = 10_000_000;

  public static final int MAX_NEW_PER_SECOND = 1_000_000;

  /**
   * The share of the workers queued handshakes take while other tenants are being served (issue
   * 16): 35 keeps another tenant at 0.8x or more of its rate under a handshake flood.
   */
  public static final int DEFAULT_HANDSHAKE_SHARE_PERCENT = 35;

  /** Largest {@code receive-buffer}: the kernel caps SO_RCVBUF at net.core.rmem_max anyway. */
  public static final int MAX_RECEIVE_BUFFER = 64 * 1024 * 1024;

  /** Smallest non-zero {@code receive-buffer}: below this TCP cannot keep a segment in flight. */
  public static final int MIN_RECEIVE_BUFFER = 4 * 1024;

  /** A /64 is what one subscriber or host is usually given (RFC 6177, RFC 7421). */
  public static final int DEFAULT_PER_SOURCE_IPV6_PREFIX = 64;

  /** The given limits with IPv6 sources aggregated by the default prefix, no handshake limit. */
  public Limits(
      int maxClientHello,
      int maxConnections,
      int perSourceMaxConnections,
      int perSourceNewPerSecond) {
    this(
        maxClientHello,
        maxConnections,
        perSourceMaxConnections,
        perSourceNewPerSecond,
        DEFAULT_PER_SOURCE_IPV6_PREFIX,
        HandshakeLimits.NONE,
        TarpitLimits.DEFAULT,
        DEFAULT_HANDSHAKE_SHARE_PERCENT,
        0);
  }

  /** The default connection limits. */
  public Limits(int maxClientHello) {
    this(
        maxClientHello,
        DEFAULT_MAX_CONNECTIONS,
        DEFAULT_PER_SOURCE_MAX_CONNECTIONS,
        DEFAULT_PER_SOURCE_NEW_PER_SECOND,
        DEFAULT_PER_SOURCE_IPV6_PREFIX,
        HandshakeLimits.NONE,
        TarpitLimits.DEFAULT,
        DEFAULT_HANDSHAKE_SHARE_PERCENT,
        0);
  }

  public Limits {
    if (maxClientHello < MIN_CLIENT_HELLO || maxClientHello > MAX_CLIENT_HELLO) {
      throw new IllegalArgumentException("maxClientHello out of range: " + maxClientHello);
    }
    if (maxConnections < 0
        || maxConnections > MAX_MAX_CONNECTIONS
        || perSourceMaxConnections < 0
        || perSourceMaxConnections > MAX_MAX_CONNECTIONS
        || perSourceNewPerSecond < 0
        || perSourceNewPerSecond > MAX_NEW_PER_SECOND) {
      throw new IllegalArgumentException("connection limit out of range");
    }
    if (perSourceIpv6Prefix < 1 || perSourceIpv6Prefix > 128) {
      throw new IllegalArgumentException("IPv6 prefix out of range: " + perSourceIpv6Prefix);
    }
    Objects.requireNonNull(perRoute, "perRoute");
    Objects.requireNonNull(tarpit, "tarpit");
    if (handshakeSharePercent < 10 || handshakeSharePercent > 100) {
      throw new IllegalArgumentException("handshake share out of range: " + handshakeSharePercent);
    }
    if (receiveBuffer != 0
        && (receiveBuffer < MIN_RECEIVE_BUFFER || receiveBuffer > MAX_RECEIVE_BUFFER)) {
      throw new IllegalArgumentException("receive buffer out of range: " + receiveBuffer);
    }
  }
}
