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
 * @param withdraw on shutdown (SIGTERM), how long Tollgate answers 503 on {@code /ready} and keeps
 *     accepting before it closes the listeners and the drain starts; zero closes them at once
 * @param keepalive TCP keepalive on client and backend sockets: the first probe after this long
 *     without traffic; zero turns keepalive off
 * @param maxLifetime a connection is closed this long after it was accepted, whatever it does; zero
 *     means no cap
 * @param lingeringClose the most a side whose bytes have nowhere to go (its peer ended TLS both
 *     ways) is read and dropped after Tollgate's FIN to it while it still sends (nginx's {@code
 *     lingering_time})
 */
public record Timeouts(
    Duration clientHello,
    Duration connect,
    Duration idle,
    Duration handshake,
    Duration drain,
    Duration withdraw,
    Duration keepalive,
    Duration maxLifetime,
    Duration lingeringClose) {
  public static final Duration DEFAULT_HANDSHAKE = Duration.ofSeconds(10);
  public static final Duration DEFAULT_LINGERING_CLOSE = Duration.ofSeconds(30);
  public static final Duration DEFAULT_DRAIN = Duration.ofSeconds(30);

  public Timeouts(Duration clientHello, Duration connect, Duration idle) {
    this(clientHello, connect, idle, DEFAULT_HANDSHAKE);
  }

  public Timeouts(Duration clientHello, Duration connect, Duration idle, Duration handshake) {
    this(clientHello, connect, idle, handshake, DEFAULT_DRAIN);
  }

  /** Without a withdraw period: the listeners close as soon as the stop begins. */
  public Timeouts(
      Duration clientHello, Duration connect, Duration idle, Duration handshake, Duration drain) {
    this(clientHello, connect, idle, handshake, drain, Duration.ZERO);
  }

  /** Without keepalive or a lifetime cap. */
  public Timeouts(
      Duration clientHello,
      Duration connect,
      Duration idle,
      Duration handshake,
      Duration drain,
      Duration withdraw) {
    this(clientHello, connect, idle, handshake, drain, withdraw, Duration.ZERO, Duration.ZERO);
  }

  /** With the default lingering close. */
  public Timeouts(
      Duration clientHello,
      Duration connect,
      Duration idle,
      Duration handshake,
      Duration drain,
      Duration withdraw,
      Duration keepalive,
      Duration maxLifetime) {
    this(
        clientHello,
        connect,
        idle,
        handshake,
        drain,
        withdraw,
        keepalive,
        maxLifetime,
        DEFAULT_LINGERING_CLOSE);
  }

  public Timeouts {
    requirePositive(clientHello, "clientHello");
    requirePositive(connect, "connect");
    requirePositive(idle, "idle");
    requirePositive(handshake, "handshake");
    requirePositive(drain, "drain");
    requirePositive(lingeringClose, "lingeringClose");
    if (withdraw == null || withdraw.isNegative()) {
      throw new IllegalArgumentException("withdraw must be zero or a positive duration");
    }
    if (keepalive == null || keepalive.isNegative()) {
      throw new IllegalArgumentException("keepalive must be zero or a positive duration");
    }
    if (maxLifetime == null || maxLifetime.isNegative()) {
      throw new IllegalArgumentException("maxLifetime must be zero or a positive duration");
    }
  }

  private static void requirePositive(Duration d, String name) {
    if (d == null || d.isZero() || d.isNegative()) {
      throw new IllegalArgumentException(name + " must be a positive duration");
    }
  }
}
