package io.tollgate.config;

import java.util.Objects;
import java.util.Optional;

/**
 * Settings for running Tollgate rather than for routing: the admin endpoint and whether to reload
 * by itself when its files change.
 *
 * @param admin {@code tollgate.admin}; empty when no address is configured (the default: off)
 * @param watch {@code tollgate.watch}: reload when the config file or a certificate, key or CA file
 *     it names changes (default false)
 * @param warmupHandshakes {@code tollgate.warmup.handshakes}: loopback connections run before the
 *     listeners accept, 0 for none (the default)
 */
public record OpsConfig(Optional<AdminConfig> admin, boolean watch, int warmupHandshakes) {
  public static final OpsConfig NONE = new OpsConfig(Optional.empty(), false);

  public OpsConfig {
    Objects.requireNonNull(admin, "admin");
    if (warmupHandshakes < 0) {
      throw new IllegalArgumentException("warmupHandshakes < 0: " + warmupHandshakes);
    }
  }

  /** Without a warm-up. */
  public OpsConfig(Optional<AdminConfig> admin, boolean watch) {
    this(admin, watch, 0);
  }
}
