package io.tollgate.ops;

import io.tollgate.config.PoolConfig;
import io.tollgate.config.ServerConfig;
import io.tollgate.config.TollgateConfig;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code warmup.reloads}: right after a start, builds what a reload would build a number of times
 * and drops it, on a thread of its own, so the first real reloads run compiled code.
 *
 * <p>Why: at 10,000 tenants a reload is loops of 10,000 items in each stage (splice, bind, TLS
 * take-over, pools, router). Right after a start those loops run in the interpreter, and the JIT
 * compiles them only as reloads come, so the first one-tenant reloads took 130-260 ms where the
 * tenth took 50-90. Rehearsing reloads that change nothing was not enough: the first real change
 * then took branches the compiled code had never seen (a tenant file parsed again, a route and a
 * pool bound again instead of taken over, a pool built again), and the JVM threw that code away
 * mid-loop and finished the loop interpreted. So the rounds alternate between the two kinds of
 * change a tenant makes: one tenant file read and bound again (another file each round), and one
 * pool's weights changed in what was loaded. Nothing of a round is put in force.
 *
 * <p>A real reload (SIGHUP, {@code POST /reload}, the watcher) stops it: the reload waits for the
 * round under way at most, and the real reloads train the JIT from then on.
 */
public final class ReloadRehearsal implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ReloadRehearsal.class);

  /**
   * Rounds end after this whatever their number (as the handshake warm-up's): a round grows with
   * the config, and the rehearsal shares the cores with the traffic.
   */
  static final long BOUND_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(30);

  private final Reloader reloader;
  private final int rounds;
  private volatile boolean stopped;

  private ReloadRehearsal(Reloader reloader, int rounds) {
    this.reloader = reloader;
    this.rounds = rounds;
  }

  /** Starts {@code rounds} rounds on a daemon thread ({@code tollgate-reload-rehearsal}). */
  static ReloadRehearsal start(Reloader reloader, int rounds) {
    ReloadRehearsal r = new ReloadRehearsal(reloader, rounds);
    Thread t = new Thread(r::run, "tollgate-reload-rehearsal");
    t.setDaemon(true);
    t.start();
    return r;
  }

  /**
   * Runs the rounds here, in this thread (tests): what {@link #start} runs.
   *
   * @return the rounds run
   */
  public static int runHere(Reloader reloader, int rounds) {
    return new ReloadRehearsal(reloader, rounds).run();
  }

  private int run() {
    long started = System.nanoTime();
    int done = 0;
    while (done < rounds
        && !stopped
        && System.nanoTime() - started < BOUND_NANOS
        && reloader.rehearse(done)) {
      done++;
    }
    log.info(
        "Reload rehearsal: {} of {} reload(s) built and dropped in {} ms{}",
        done,
        rounds,
        (System.nanoTime() - started) / 1_000_000,
        done < rounds
            ? " (stopped early: a reload was asked for, the files do not load, or 30 s passed)"
            : "");
    return done;
  }

  /**
   * {@code config} with the weights of one pool's first server changed ({@code which} picks the
   * pool): a round that takes the paths of a pool changed in a tenant file.
   */
  static TollgateConfig withOnePoolReweighted(TollgateConfig config, int which) {
    List<PoolConfig> withServers =
        config.pools().values().stream().filter(p -> !p.servers().isEmpty()).toList();
    if (withServers.isEmpty()) {
      return config;
    }
    PoolConfig pool = withServers.get(which % withServers.size());
    List<ServerConfig> servers = new ArrayList<>(pool.servers());
    ServerConfig first = servers.get(0);
    int weight = first.weight() == 1 ? 2 : 1;
    servers.set(
        0, new ServerConfig(first.address(), weight, first.maxConnections(), first.backup()));
    Map<String, PoolConfig> pools = new HashMap<>(config.pools());
    pools.put(
        pool.name(),
        new PoolConfig(
            pool.name(),
            servers,
            pool.connectAttempts(),
            pool.tls(),
            pool.healthCheck(),
            pool.balance(),
            pool.passive(),
            pool.proxyProtocol(),
            pool.dns(),
            pool.source()));
    return new TollgateConfig(
        config.listeners(),
        config.io(),
        config.timeouts(),
        config.limits(),
        config.routes(),
        config.defaultRoute(),
        pools,
        config.certificates(),
        config.tls(),
        config.accessLog(),
        config.source(),
        config.warnings(),
        config.ops(),
        config.acme(),
        config.dns());
  }

  /** Stops after the round under way (which holds the reload lock until it ends). */
  @Override
  public void close() {
    stopped = true;
  }
}
