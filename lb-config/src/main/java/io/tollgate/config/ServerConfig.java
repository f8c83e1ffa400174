package io.tollgate.config;

import java.util.Objects;

/**
 * One backend server of a pool: {@code "host:port"} or {@code { address = "host:port", weight = 2,
 * max-connections = 100, backup = true }}.
 *
 * @param maxConnections most connections Tollgate keeps open to this server at once; 0 means no
 *     limit. A full server is skipped; when every server is full the connection is refused ({@code
 *     pool_full}).
 * @param backup used only while every server of the pool that is not a backup is down
 */
public record ServerConfig(HostPort address, int weight, int maxConnections, boolean backup) {
  public static final int DEFAULT_WEIGHT = 1;
  public static final int MAX_WEIGHT = 256;
  public static final int UNLIMITED = 0;
  public static final int MAX_MAX_CONNECTIONS = 10_000_000;

  public ServerConfig(HostPort address, int weight) {
    this(address, weight, UNLIMITED);
  }

  /** Not a backup server. */
  public ServerConfig(HostPort address, int weight, int maxConnections) {
    this(address, weight, maxConnections, false);
  }

  public ServerConfig {
    Objects.requireNonNull(address, "address");
    if (weight < 1 || weight > MAX_WEIGHT) {
      throw new IllegalArgumentException("weight out of range: " + weight);
    }
    if (maxConnections < 0 || maxConnections > MAX_MAX_CONNECTIONS) {
      throw new IllegalArgumentException("maxConnections out of range: " + maxConnections);
    }
  }
}
