package io.tollgate.config;

import java.util.Objects;
import java.util.Optional;

/**
 * Settings for running Tollgate rather than for routing: the admin endpoint, whether to reload by
 * itself when its files change, and the start-up warm-ups.
 *
 * @param admin {@code tollgate.admin}; empty when no address is configured (the default: off)
 * @param watch {@code tollgate.watch}: reload when the config file or a certificate, key or CA file
 *     it names changes (default false)
 * @param warmupHandshakes {@code tollgate.warmup.handshakes}: loopback connections run before the
 *     listeners accept, 0 for none, {@link #HANDSHAKES_AUTO} (the default in a config file) to
 *     decide by how Tollgate runs ({@link #handshakeWarmup})
 * @param warmupReloads {@code tollgate.warmup.reloads}: reloads rehearsed once the listeners
 *     accept, 0 for none, {@link #RELOADS_AUTO} (the default) to decide by the config's size
 *     ({@link #reloadRehearsals})
 */
public record OpsConfig(
    Optional<AdminConfig> admin, boolean watch, int warmupHandshakes, int warmupReloads) {
  public static final OpsConfig NONE = new OpsConfig(Optional.empty(), false);

  /** {@code warmup.handshakes = auto}. */
  public static final int HANDSHAKES_AUTO = -1;

  /**
   * Loopback connections {@code auto} makes before a server process accepts: the shipped config's
   * figure. Measured on the shared harness's keep-alive offload workload, the C2 compiler took half
   * of the proxy's CPU per request 40 s after a cold start (recompiling the TLS engine's paths
   * after the first connection ended), 81-97 µs per request in all, against 34-38 µs after this
   * warm-up (README, "Warm-up").
   */
  public static final int AUTO_HANDSHAKES = 1000;

  /** {@code warmup.reloads = auto}. */
  public static final int RELOADS_AUTO = -1;

  /** Routes from which {@code auto} rehearses reloads: below, a cold reload is fast anyway. */
  public static final int AUTO_RELOADS_FROM_ROUTES = 1000;

  /**
   * Rehearsals {@code auto} runs: at 10,000 tenants the JIT was still compiling the reload path
   * after 40 (5 of the 15 first reloads measured after them took 105-116 ms); after 60, 3 of 27
   * did, each a tenant added with its own certificate (README, "Reload rehearsal").
   */
  public static final int AUTO_RELOADS = 60;

  public OpsConfig {
    Objects.requireNonNull(admin, "admin");
    if (warmupHandshakes < HANDSHAKES_AUTO) {
      throw new IllegalArgumentException(
          "warmupHandshakes neither HANDSHAKES_AUTO nor >= 0: " + warmupHandshakes);
    }
    if (warmupReloads < RELOADS_AUTO) {
      throw new IllegalArgumentException("warmupReloads < 0: " + warmupReloads);
    }
  }

  /** Without a handshake warm-up, reloads rehearsed by the config's size. */
  public OpsConfig(Optional<AdminConfig> admin, boolean watch) {
    this(admin, watch, 0);
  }

  /** Reloads rehearsed by the config's size. */
  public OpsConfig(Optional<AdminConfig> admin, boolean watch, int warmupHandshakes) {
    this(admin, watch, warmupHandshakes, RELOADS_AUTO);
  }

  /**
   * How many loopback connections to make before accepting: {@code auto} is {@link
   * #AUTO_HANDSHAKES} in a {@code server} process ({@code tollgate run}, which a restart or an
   * upgrade starts too) and none otherwise (Tollgate embedded, the demo, tests), where starting at
   * once matters more than the first seconds' CPU.
   */
  public int handshakeWarmup(boolean server) {
    if (warmupHandshakes != HANDSHAKES_AUTO) {
      return warmupHandshakes;
    }
    return server ? AUTO_HANDSHAKES : 0;
  }

  /** How many reloads to rehearse after a start with {@code routes} routes. */
  public int reloadRehearsals(int routes) {
    if (warmupReloads != RELOADS_AUTO) {
      return warmupReloads;
    }
    return routes >= AUTO_RELOADS_FROM_ROUTES ? AUTO_RELOADS : 0;
  }
}
