package io.tollgate.config;

import java.time.Duration;

/**
 * Time bounds for every phase of a connection ({@code tollgate.timeouts}).
 *
 * @param clientHello from accept until a whole ClientHello has been read
 * @param connect for one TCP connect attempt to a backend server
 * @param idle with no byte moving in either direction
 */
public record Timeouts(Duration clientHello, Duration connect, Duration idle) {
  public Timeouts {
    requirePositive(clientHello, "clientHello");
    requirePositive(connect, "connect");
    requirePositive(idle, "idle");
  }

  private static void requirePositive(Duration d, String name) {
    if (d == null || d.isZero() || d.isNegative()) {
      throw new IllegalArgumentException(name + " must be a positive duration");
    }
  }
}
