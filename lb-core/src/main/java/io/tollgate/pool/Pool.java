package io.tollgate.pool;

import io.tollgate.config.BackendProxyProtocol;
import io.tollgate.config.BalanceConfig;
import io.tollgate.config.BalanceConfig.Algorithm;
import io.tollgate.connection.CloseReason;
import io.tollgate.health.PassiveSignals;
import io.tollgate.health.ServerState;
import io.tollgate.net.FailureKind;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * A named group of backend servers and the order in which a new connection tries them.
 *
 * <p>{@link #select} considers only servers that are up, not draining and below their {@code
 * max-connections}; the pool's {@code balance} algorithm picks the first, the next ones (distinct,
 * at most {@code connect-attempts} in all) are where a failed connect goes next. When no server is
 * up the pool refuses ({@code no_healthy_backend}) or, with {@code on-all-down = try-all}, tries
 * them anyway; when every server that is up is full it refuses with {@code pool_full}. Backup
 * servers count only while no other server is up and not draining.
 *
 * <p>Each connect attempt holds a {@link Lease} from {@link #reserve}: it counts open connections
 * per server and passes connect failures and successes to passive ejection.
 */
public final class Pool {
  /** Slow-start weights are scaled by this so a ramp has fine steps. */
  private static final long WEIGHT_SCALE = 1000;

  /** What {@link #select} decided: servers to try in order, or why there are none. */
  public record Selection(List<Backend> order, CloseReason refusal, String detail) {
    public boolean refused() {
      return refusal != null;
    }
  }

  private final String name;

  /** Swapped whole by {@link #replaceServers}; read once per {@link #select}. */
  private volatile ServerSet set;

  private final int connectAttempts;
  private final BalanceConfig balance;
  private final PassiveSignals signals;
  private final LongSupplier ticker;
  private final Supplier<Random> random;
  private final AtomicInteger rotation = new AtomicInteger();
  private final BackendProxyProtocol proxyProtocol;

  /** The local address backend connections bind to ({@code source}, port 0), or null. */
  private final InetSocketAddress source;

  /** Smooth weighted round-robin, every server up unless its state says otherwise. */
  public Pool(String name, List<Backend> servers, int connectAttempts) {
    this(
        name,
        servers,
        connectAttempts,
        BalanceConfig.DEFAULTS,
        BackendProxyProtocol.OFF,
        PassiveSignals.NONE,
        System::nanoTime,
        ThreadLocalRandom::current);
  }

  /**
   * @param proxyProtocol the PROXY protocol header written first on each backend connection
   * @param signals where connect failures and successes go (passive ejection)
   * @param ticker nanosecond clock for slow start (tests inject one)
   * @param random randomness for random-two and least-conn ties (tests inject a seeded one)
   */
  public Pool(
      String name,
      List<Backend> servers,
      int connectAttempts,
      BalanceConfig balance,
      BackendProxyProtocol proxyProtocol,
      PassiveSignals signals,
      LongSupplier ticker,
      Supplier<Random> random) {
    this(name, servers, connectAttempts, balance, proxyProtocol, signals, ticker, random, null);
  }

  /**
   * As above, with backend connections bound to {@code source} (an address of this host, port 0),
   * or to whatever the kernel picks when it is null.
   */
  public Pool(
      String name,
      List<Backend> servers,
      int connectAttempts,
      BalanceConfig balance,
      BackendProxyProtocol proxyProtocol,
      PassiveSignals signals,
      LongSupplier ticker,
      Supplier<Random> random,
      InetSocketAddress source) {
    this.source = source;
    this.name = Objects.requireNonNull(name, "name");
    this.connectAttempts = connectAttempts;
    this.balance = Objects.requireNonNull(balance, "balance");
    this.proxyProtocol = Objects.requireNonNull(proxyProtocol, "proxyProtocol");
    this.signals = Objects.requireNonNull(signals, "signals");
    this.ticker = ticker;
    this.random = random;
    this.set = new ServerSet(servers, balance.algorithm().hashes());
  }

  public String name() {
    return name;
  }

  /** The servers now; DNS and the admin API may change them while the pool is in force. */
  public List<Backend> servers() {
    return set.servers;
  }

  /**
   * Puts a new list of servers in force for the next {@link #select}: DNS records changed, or the
   * admin API added, removed or re-weighted a server. Connections to a server no longer listed go
   * on; they hold its {@link Lease}. Round-robin starts over; the hash ring is rebuilt (a server's
   * points depend only on its label, so only keys of added or removed servers move).
   */
  public void replaceServers(List<Backend> servers) {
    set = new ServerSet(servers, balance.algorithm().hashes());
  }

  public BalanceConfig balance() {
    return balance;
  }

  /** The local address backend connections are bound to, or null for the kernel's choice. */
  public InetSocketAddress source() {
    return source;
  }

  /** The PROXY protocol header written first on each connection to this pool's servers. */
  public BackendProxyProtocol proxyProtocol() {
    return proxyProtocol;
  }

  /**
   * The servers a new connection from {@code client} asking for {@code sni} should try, in order,
   * or why it cannot go anywhere.
   *
   * @param client the client's address (source-hash), may be null
   * @param sni the ClientHello's server name (sni-hash), may be null
   */
  public Selection select(SocketAddress client, String sni) {
    ServerSet set = this.set;
    List<Backend> servers = set.servers;
    int n = servers.size();
    if (n == 0) {
      return refuse(
          CloseReason.NO_HEALTHY_BACKEND,
          "pool "
              + name
              + " has no servers now (its DNS names did not resolve yet, or every"
              + " server was removed at run time)");
    }
    boolean[] eligible = new boolean[n];
    int alive = 0;
    for (int i = 0; i < n; i++) {
      ServerState s = servers.get(i).state();
      eligible[i] = !servers.get(i).backup() && s.isUp() && !s.isDraining();
      alive += eligible[i] ? 1 : 0;
    }
    if (alive == 0 && set.hasBackups) {
      // Every primary is down or draining: the backups take over, balanced among themselves.
      for (int i = 0; i < n; i++) {
        ServerState s = servers.get(i).state();
        eligible[i] = servers.get(i).backup() && s.isUp() && !s.isDraining();
        alive += eligible[i] ? 1 : 0;
      }
    }
    if (alive == 0) {
      if (balance.onAllDown() == BalanceConfig.OnAllDown.REJECT) {
        return refuse(
            CloseReason.NO_HEALTHY_BACKEND,
            "all " + n + " server(s) of pool " + name + " are down or draining");
      }
      for (int i = 0; i < n; i++) {
        eligible[i] = !servers.get(i).state().isDraining();
        alive += eligible[i] ? 1 : 0;
      }
      if (alive == 0) {
        return refuse(
            CloseReason.NO_HEALTHY_BACKEND,
            "all " + n + " server(s) of pool " + name + " are draining");
      }
    }
    int usable = 0;
    for (int i = 0; i < n; i++) {
      eligible[i] &= servers.get(i).hasRoom();
      usable += eligible[i] ? 1 : 0;
    }
    if (usable == 0) {
      return refuse(
          CloseReason.POOL_FULL,
          "every available server of pool " + name + " is at its max-connections");
    }
    int limit = Math.min(connectAttempts, usable);
    List<Backend> order = new ArrayList<>(limit);
    if (set.ring != null) {
      for (int i : set.ring.walk(hashKey(client, sni), eligible, limit)) {
        order.add(servers.get(i));
      }
      return new Selection(order, null, null);
    }
    int first = pick(set, eligible);
    order.add(servers.get(first));
    for (int i = 1; i < n && order.size() < limit; i++) {
      int next = (first + i) % n;
      if (eligible[next]) {
        order.add(servers.get(next));
      }
    }
    return new Selection(order, null, null);
  }

  private static Selection refuse(CloseReason reason, String detail) {
    return new Selection(List.of(), reason, detail);
  }

  private int pick(ServerSet set, boolean[] eligible) {
    long[] weights = effectiveWeights(set.servers);
    return switch (balance.algorithm()) {
      case ROUND_ROBIN -> set.roundRobin.next(eligible, weights);
      case LEAST_CONN -> leastConn(set.servers, eligible, weights);
      case RANDOM_TWO -> randomTwo(set.servers, eligible, weights);
      case SOURCE_HASH, SNI_HASH -> throw new IllegalStateException("hashing uses the ring");
    };
  }

  /** Fewest active connections per unit of weight; ties take turns so they are shared. */
  private int leastConn(List<Backend> servers, boolean[] eligible, long[] weights) {
    int best = -1;
    int ties = 0;
    for (int i = 0; i < eligible.length; i++) {
      if (!eligible[i]) {
        continue;
      }
      if (best < 0 || fewer(servers, i, best, weights)) {
        best = i;
        ties = 1;
      } else if (!fewer(servers, best, i, weights)) {
        ties++;
      }
    }
    if (ties == 1) {
      return best;
    }
    int turn = Math.floorMod(rotation.getAndIncrement(), ties);
    for (int i = 0; i < eligible.length; i++) {
      if (eligible[i]
          && !fewer(servers, i, best, weights)
          && !fewer(servers, best, i, weights)
          && turn-- == 0) {
        return i;
      }
    }
    return best;
  }

  /** Two servers drawn by weight; the one with fewer active connections per weight. */
  private int randomTwo(List<Backend> servers, boolean[] eligible, long[] weights) {
    Random r = random.get();
    int a = drawByWeight(eligible, weights, -1, r);
    int b = drawByWeight(eligible, weights, a, r);
    if (b < 0) {
      return a;
    }
    return fewer(servers, b, a, weights) ? b : a;
  }

  private static int drawByWeight(boolean[] eligible, long[] weights, int exclude, Random r) {
    long total = 0;
    for (int i = 0; i < eligible.length; i++) {
      if (eligible[i] && i != exclude) {
        total += weights[i];
      }
    }
    if (total == 0) {
      return -1;
    }
    long x = (long) (r.nextDouble() * total);
    for (int i = 0; i < eligible.length; i++) {
      if (eligible[i] && i != exclude) {
        x -= weights[i];
        if (x < 0) {
          return i;
        }
      }
    }
    return -1; // not reached
  }

  /** Whether server i has fewer active connections per weight than server j. */
  private static boolean fewer(List<Backend> servers, int i, int j, long[] weights) {
    long ai = servers.get(i).state().activeConnections();
    long aj = servers.get(j).state().activeConnections();
    return ai * weights[j] < aj * weights[i];
  }

  /**
   * Weights scaled by {@link #WEIGHT_SCALE}; a server within {@code slow-start} of coming back up
   * gets a share growing linearly from almost nothing to its full weight.
   */
  long[] effectiveWeights() {
    return effectiveWeights(set.servers);
  }

  private long[] effectiveWeights(List<Backend> servers) {
    long[] w = new long[servers.size()];
    long slow = balance.slowStart().toNanos();
    long now = slow > 0 ? ticker.getAsLong() : 0;
    for (int i = 0; i < w.length; i++) {
      Backend b = servers.get(i);
      long full = b.weight() * WEIGHT_SCALE;
      long since = b.state().rampStartNanos();
      if (slow > 0 && since != ServerState.NO_RAMP && now - since < slow) {
        w[i] = Math.max(1, full * Math.max(0, now - since) / slow);
      } else {
        w[i] = full;
      }
    }
    return w;
  }

  private long hashKey(SocketAddress client, String sni) {
    if (balance.algorithm() == Algorithm.SNI_HASH && sni != null) {
      return HashRing.hash(sni.toLowerCase(Locale.ROOT).getBytes(StandardCharsets.UTF_8));
    }
    if (client instanceof InetSocketAddress isa && isa.getAddress() != null) {
      return HashRing.hash(isa.getAddress().getAddress());
    }
    return 0;
  }

  /** The server at {@code address}, if this pool has it. */
  public Optional<Backend> server(InetSocketAddress address) {
    return set.servers.stream().filter(b -> b.address().equals(address)).findFirst();
  }

  /**
   * Puts the server into drain (it takes no new connections, open ones continue) or takes it out.
   * The setting lives in the server's state, so it survives a reload.
   *
   * @return false if this pool has no server at that address
   */
  public boolean drain(InetSocketAddress address, boolean on) {
    Optional<Backend> b = server(address);
    b.ifPresent(s -> s.state().drain(on));
    return b.isPresent();
  }

  /**
   * Takes a connection slot on {@code server} for one connect attempt, unless it is at its {@code
   * max-connections} since the pool chose it.
   *
   * @return the attempt's lease, or null when the server is full (skip it)
   */
  public Lease reserve(Backend server) {
    return server.state().tryAcquire(server.maxConnections()) ? new Lease(server, signals) : null;
  }

  /** A failed connect as the server's health log reads it. */
  static String describe(Throwable cause) {
    return switch (FailureKind.of(cause)) {
      case CONNECT_TIMEOUT -> "connect timeout";
      case CONNECT_REFUSED -> "connect refused";
      default -> "connect failed: " + cause.getMessage();
    };
  }

  @Override
  public String toString() {
    return "pool " + name + " " + set.servers;
  }
}
