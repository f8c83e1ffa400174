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
 */
public record OpsConfig(Optional<AdminConfig> admin, boolean watch) {
  public static final OpsConfig NONE = new OpsConfig(Optional.empty(), false);

  public OpsConfig {
    Objects.requireNonNull(admin, "admin");
  }
}
