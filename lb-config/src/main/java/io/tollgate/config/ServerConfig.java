package io.tollgate.config;

import java.util.Objects;

/** One backend server of a pool: {@code "host:port"} or {@code { address = "host:port", weight = 2 }}. */
public record ServerConfig(HostPort address, int weight) {
  public static final int DEFAULT_WEIGHT = 1;
  public static final int MAX_WEIGHT = 256;

  public ServerConfig {
    Objects.requireNonNull(address, "address");
    if (weight < 1 || weight > MAX_WEIGHT) {
      throw new IllegalArgumentException("weight out of range: " + weight);
    }
  }
}
