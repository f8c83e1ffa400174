package io.tollgate.config;

import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * {@code tollgate.pools.NAME.health-check}: how Tollgate probes each server of a pool. A pool
 * without this block has no active check: its servers count as up (passive ejection can still take
 * them out for a while).
 *
 * <p>Timings follow HAProxy's {@code inter}, {@code fastinter}, {@code downinter}, {@code rise} and
 * {@code fall}: a server is probed every {@code interval} while it is steadily up, every {@code
 * fastInterval} while its state is changing (up with failures, or down with successes), and every
 * {@code downInterval} while it is steadily down.
 *
 * @param type what a probe does: connect (tcp), complete a TLS handshake (tls), or ask for {@code
 *     path} over HTTP/1.1, in clear (http) or over TLS (https)
 * @param interval between probes of a server that is up
 * @param fastInterval between probes while a server's state is changing
 * @param downInterval between probes of a server that is down
 * @param timeout for one whole probe (connect, handshake, response)
 * @param rise consecutive successes that bring a server back up
 * @param fall consecutive failures that take a server down
 * @param jitterPercent each delay varies randomly by up to this percentage (0..50), so probes of
 *     many servers do not fall into step
 * @param path request path for http/https
 * @param host Host header for http/https; absent: {@code serverName}, else the server's host
 * @param expectStatusMin lowest HTTP status that counts as healthy
 * @param expectStatusMax highest HTTP status that counts as healthy
 * @param expectBody substring the response body must contain, if any
 * @param serverName SNI (and name to verify) for tls/https; absent: the pool's {@code
 *     tls.server-name}, else the server's host when it is a name
 * @param initial state of a server before its first probe
 * @param verify for tls/https: whether to verify the server's certificate (chain and name) against
 *     the pool's {@code tls.ca}, else the JDK's trust store, as the data path does; absent: the
 *     pool's {@code tls.verify} (default true). False checks only the handshake.
 */
public record HealthCheckConfig(
    Type type,
    Duration interval,
    Duration fastInterval,
    Duration downInterval,
    Duration timeout,
    int rise,
    int fall,
    int jitterPercent,
    String path,
    Optional<String> host,
    int expectStatusMin,
    int expectStatusMax,
    Optional<String> expectBody,
    Optional<String> serverName,
    Initial initial,
    Optional<Boolean> verify) {

  /** Probe kinds. */
  public enum Type {
    TCP,
    TLS,
    HTTP,
    HTTPS;

    public String configName() {
      return name().toLowerCase(Locale.ROOT);
    }

    /** Whether the probe completes a TLS handshake. */
    public boolean usesTls() {
      return this == TLS || this == HTTPS;
    }

    /** Whether the probe sends an HTTP request. */
    public boolean usesHttp() {
      return this == HTTP || this == HTTPS;
    }
  }

  /** A server's state before its first probe. */
  public enum Initial {
    /** Up until probes say otherwise (fall failures). */
    UP,
    /** Down until the first successful probe (one success is enough, not rise). */
    DOWN
  }

  public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(2);
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(1);
  public static final int DEFAULT_RISE = 2;
  public static final int DEFAULT_FALL = 3;
  public static final int DEFAULT_JITTER_PERCENT = 10;
  public static final int MAX_JITTER_PERCENT = 50;
  public static final String DEFAULT_PATH = "/";
  public static final int DEFAULT_EXPECT_STATUS_MIN = 200;
  public static final int DEFAULT_EXPECT_STATUS_MAX = 399;

  public HealthCheckConfig {
    Objects.requireNonNull(type, "type");
    requirePositive(interval, "interval");
    requirePositive(fastInterval, "fastInterval");
    requirePositive(downInterval, "downInterval");
    requirePositive(timeout, "timeout");
    if (rise < 1 || fall < 1) {
      throw new IllegalArgumentException("rise and fall must be >= 1");
    }
    if (jitterPercent < 0 || jitterPercent > MAX_JITTER_PERCENT) {
      throw new IllegalArgumentException("jitterPercent out of range: " + jitterPercent);
    }
    Objects.requireNonNull(path, "path");
    if (!path.startsWith("/")) {
      throw new IllegalArgumentException("path must start with /: " + path);
    }
    Objects.requireNonNull(host, "host");
    if (expectStatusMin < 100 || expectStatusMax > 599 || expectStatusMin > expectStatusMax) {
      throw new IllegalArgumentException(
          "expect-status out of range: " + expectStatusMin + "-" + expectStatusMax);
    }
    Objects.requireNonNull(expectBody, "expectBody");
    Objects.requireNonNull(serverName, "serverName");
    Objects.requireNonNull(initial, "initial");
    Objects.requireNonNull(verify, "verify");
  }

  /** A check that verifies as its pool's {@code tls.verify} says. */
  public HealthCheckConfig(
      Type type,
      Duration interval,
      Duration fastInterval,
      Duration downInterval,
      Duration timeout,
      int rise,
      int fall,
      int jitterPercent,
      String path,
      Optional<String> host,
      int expectStatusMin,
      int expectStatusMax,
      Optional<String> expectBody,
      Optional<String> serverName,
      Initial initial) {
    this(
        type,
        interval,
        fastInterval,
        downInterval,
        timeout,
        rise,
        fall,
        jitterPercent,
        path,
        host,
        expectStatusMin,
        expectStatusMax,
        expectBody,
        serverName,
        initial,
        Optional.empty());
  }

  /** Whether a tls/https probe verifies the certificate, given its pool's {@code tls.verify}. */
  public boolean verifies(boolean poolVerify) {
    return verify.orElse(poolVerify);
  }

  /** Default for {@code fast-interval}: half of {@code interval}. */
  public static Duration defaultFastInterval(Duration interval) {
    return interval.dividedBy(2).isZero() ? interval : interval.dividedBy(2);
  }

  /** Default for {@code down-interval}: twice {@code interval}. */
  public static Duration defaultDownInterval(Duration interval) {
    return interval.multipliedBy(2);
  }

  /** Every setting at its default for a probe of that type. */
  public static HealthCheckConfig defaults(Type type) {
    return new HealthCheckConfig(
        type,
        DEFAULT_INTERVAL,
        defaultFastInterval(DEFAULT_INTERVAL),
        defaultDownInterval(DEFAULT_INTERVAL),
        DEFAULT_TIMEOUT,
        DEFAULT_RISE,
        DEFAULT_FALL,
        DEFAULT_JITTER_PERCENT,
        DEFAULT_PATH,
        Optional.empty(),
        DEFAULT_EXPECT_STATUS_MIN,
        DEFAULT_EXPECT_STATUS_MAX,
        Optional.empty(),
        Optional.empty(),
        Initial.DOWN);
  }

  /**
   * This check with other timings; {@code fast-interval} and {@code down-interval} take their
   * defaults for the new interval.
   */
  public HealthCheckConfig withTimings(Duration interval, Duration timeout, int rise, int fall) {
    return new HealthCheckConfig(
        type,
        interval,
        defaultFastInterval(interval),
        defaultDownInterval(interval),
        timeout,
        rise,
        fall,
        jitterPercent,
        path,
        host,
        expectStatusMin,
        expectStatusMax,
        expectBody,
        serverName,
        initial,
        verify);
  }

  /** The HTTP part of this check changed: path, expected status range and body. */
  public HealthCheckConfig withHttp(
      String path, int statusMin, int statusMax, Optional<String> body) {
    return new HealthCheckConfig(
        type,
        interval,
        fastInterval,
        downInterval,
        timeout,
        rise,
        fall,
        jitterPercent,
        path,
        host,
        statusMin,
        statusMax,
        body,
        serverName,
        initial,
        verify);
  }

  /** This check with another initial state, jitter and SNI. */
  public HealthCheckConfig withStart(
      Initial initial, int jitterPercent, Optional<String> serverName) {
    return new HealthCheckConfig(
        type,
        interval,
        fastInterval,
        downInterval,
        timeout,
        rise,
        fall,
        jitterPercent,
        path,
        host,
        expectStatusMin,
        expectStatusMax,
        expectBody,
        serverName,
        initial,
        verify);
  }

  /** This check with its own {@code verify} setting (absent: the pool's). */
  public HealthCheckConfig withVerify(Optional<Boolean> verify) {
    return new HealthCheckConfig(
        type,
        interval,
        fastInterval,
        downInterval,
        timeout,
        rise,
        fall,
        jitterPercent,
        path,
        host,
        expectStatusMin,
        expectStatusMax,
        expectBody,
        serverName,
        initial,
        verify);
  }

  private static void requirePositive(Duration d, String name) {
    if (d == null || d.isZero() || d.isNegative()) {
      throw new IllegalArgumentException(name + " must be a positive duration");
    }
  }
}
