package io.tollgate.tls;

import io.tollgate.config.ConfigError;
import io.tollgate.config.TollgateConfig;
import java.util.List;

/**
 * Every TLS object one config needs, built once at load or reload (off the event loops: it reads
 * files) and immutable after: a {@link ServerTls} per offload/reencrypt route, a
 * {@link BackendTls} per pool that a reencrypt route uses.
 */
public final class TlsMaterial {
  private TlsMaterial() {}

  /**
   * Reads and checks every certificate, key, CA bundle and ticket-key file the config names.
   * Problems go to {@code errors} (the build is unusable if any) or {@code warnings}; each names
   * the file and the config key it came from.
   */
  public static TlsMaterial build(
      TollgateConfig config, List<ConfigError> errors, List<ConfigError> warnings) {
    return new TlsMaterial(); // stub until the tls package lands: passthrough-only configs
  }

  /** For a route whose mode terminates TLS; keyed by {@code RouteConfig.name()}. */
  public ServerTls serverTls(String routeName) {
    throw new UnsupportedOperationException("stub");
  }

  /** For a pool used by a reencrypt route (its {@code tls} block or the defaults). */
  public BackendTls backendTls(String poolName) {
    throw new UnsupportedOperationException("stub");
  }
}
