package io.tollgate.config;

import java.time.Duration;

/**
 * Time bounds for every phase of a connection ({@code tollgate.timeouts}).
 *
 * @param clientHello from accept until a whole ClientHello has been read
 * @param connect for one TCP connect attempt to a backend server
 * @param idle with no byte moving in either direction
 * @param handshake for a TLS handshake Tollgate takes part in (offload and reencrypt, each side)
 * @param drain on shutdown (SIGTERM), how long open connections may take to finish before the rest
 *     are closed
 */
public record Timeouts(
    Duration clientHello, Duration connect, Duration idle, Duration handshake, Duration drain) {
  public static final Duration DEFAULT_HANDSHAKE = Duration.ofSeconds(10);
  public static final Duration DEFAULT_DRAIN = Duration.ofSeconds(30);

  public Timeouts(Duration clientHello, Duration connect, Duration idle) {
    this(clientHello, connect, idle, DEFAULT_HANDSHAKE);
  }

  public Timeouts(Duration clientHello, Duration connect, Duration idle, Duration handshake) {
    this(clientHello, connect, idle, handshake, DEFAULT_DRAIN);
  }

  public Timeouts {
    requirePositive(clientHello, "clientHello");
    requirePositive(connect, "connect");
    requirePositive(idle, "idle");
    requirePositive(handshake, "handshake");
    requirePositive(drain, "drain");
  }

  private static void requirePositive(Duration d, String name) {
    if (d == null || d.isZero() || d.isNegative()) {
      throw new IllegalArgumentException(name + " must be a positive duration");
    }
  }
}
