package io.tollgate.snapshot;

import io.netty.util.NetUtil;
import io.tollgate.config.ConfigError;
import io.tollgate.config.HostPort;
import io.tollgate.config.PoolConfig;
import io.tollgate.config.ServerConfig;
import io.tollgate.dns.DnsLookups;
import io.tollgate.dns.SrvRecord;
import io.tollgate.health.HealthChecker;
import io.tollgate.health.ProbeTls;
import io.tollgate.health.ServerKey;
import io.tollgate.health.ServerState;
import io.tollgate.net.Causes;
import io.tollgate.pool.Backend;
import io.tollgate.pool.Pool;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.function.BiFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one way a pool's servers change while its config is in force: the servers the file names,
 * expanded by DNS (every A/AAAA record of a host name, and the SRV records of {@code srv}), changed
 * by the admin API (added, removed, re-weighted). Each change computes the whole list anew, gives
 * the health checker the new set ({@link HealthChecker#updatePool}: new servers get a state and a
 * monitor, gone ones lose theirs) and swaps an immutable list into the {@link Pool}, which the data
 * path reads without a lock. Connections open to a server no longer listed go on.
 *
 * <p>A failed lookup keeps the name's last good addresses; only a non-empty answer replaces them.
 * Nothing here is persisted: a reload builds a new instance from the file.
 *
 * <p>Thread-safe: DNS results arrive on the DNS loop, admin changes on admin threads; both take
 * this object's lock, never a data-path loop.
 */
public final class PoolServers {
  private static final Logger log = LoggerFactory.getLogger("io.tollgate.dns");

  /** One server as the pool will have it. */
  record Member(
      HostPort configured,
      InetSocketAddress address,
      int weight,
      int maxConnections,
      boolean backup) {}

  /** What the last lookup of one name said. */
  public record NameStatus(
      String name,
      String type,
      List<InetAddress> addresses,
      boolean ok,
      String lastError,
      Instant lastSuccess,
      Instant lastAttempt) {}

  /** Why an admin change was refused; {@code status} is the HTTP status it maps to. */
  public static final class Refused extends Exception {
    private final int status;

    Refused(int status, String message) {
      super(message, null, false, false);
      this.status = status;
    }

    public int status() {
      return status;
    }
  }

  private final PoolConfig config;
  private final BiFunction<HostPort, InetSocketAddress, HealthChecker.Target> targets;
  private Pool pool;

  /** The host names the file's servers are written with. */
  private final List<String> hosts;

  // The four below are empty and immutable until the first change: a snapshot of 10,000 pools
  // makes 10,000 of these a reload, and almost none ever changes.

  /** Host name to its last lookup and good addresses (the file's names and SRV targets). */
  private Map<String, NameStatus> names = Map.of();

  private NameStatus srvStatus;
  private List<SrvRecord> srvRecords = List.of();

  private Map<String, Member> added = Map.of();
  private Set<String> removed = Set.of();
  private Map<String, Integer> weights = Map.of();

  private List<Member> current = List.of();

  /** The health targets of the members the pool was built with (see {@link #successor}). */
  private List<HealthChecker.Target> builtTargets = List.of();

  /** The admin API or DNS changed the pool's servers since it was built. */
  private boolean changedAtRunTime;

  private final boolean takenOver;

  private HealthChecker health;
  private long generation;
  private DnsLookups lookups;
  private ScheduledFuture<?> timer;
  private boolean stopped;

  PoolServers(
      PoolConfig config, BiFunction<HostPort, InetSocketAddress, HealthChecker.Target> targets) {
    this.config = config;
    this.targets = targets;
    this.takenOver = false;
    Set<String> h = new LinkedHashSet<>();
    for (ServerConfig sc : config.servers()) {
      if (!isIp(sc.address().host())) {
        h.add(key(sc.address().host()));
      }
    }
    this.hosts = List.copyOf(h);
  }

  private PoolServers(PoolServers earlier) {
    this.config = earlier.config;
    this.targets = earlier.targets;
    this.hosts = earlier.hosts;
    this.pool = earlier.pool;
    this.current = earlier.current;
    this.builtTargets = earlier.builtTargets;
    this.takenOver = true;
  }

  /**
   * Whether a reload may take this pool over whole for {@code next}: the very config object (its
   * tenant file did not change, so the binder handed back what it bound last time), servers written
   * as addresses (nothing for DNS to change), servers as built (neither the admin API nor a lookup
   * changed them) and health probes with the same TLS. Its members, health targets and {@code Pool}
   * then stay what they are: the targets are the objects the health checker follows, so their
   * states are the ones the pool's servers hold.
   */
  synchronized boolean canBeTakenOverBy(PoolConfig next, ProbeTls probeTls) {
    return next == config
        && pool != null
        && !changedAtRunTime
        && !followsDns()
        && (builtTargets.isEmpty() || builtTargets.get(0).probeTls() == probeTls);
  }

  /**
   * This pool for the next snapshot (see {@link #canBeTakenOverBy}): the same members, targets and
   * {@code Pool}, with a run-time life of its own (this one stops when its snapshot retires).
   */
  synchronized PoolServers successor() {
    return new PoolServers(this);
  }

  /** The health target of one member, as the snapshot and a run-time change make it. */
  HealthChecker.Target target(Member m) {
    return targets.apply(m.configured(), m.address());
  }

  /** Whether this pool was taken over from the snapshot before (see {@link #successor}). */
  boolean takenOver() {
    return takenOver;
  }

  /** The pool this snapshot routes to (set by {@link #built}, or taken over). */
  synchronized Pool pool() {
    return pool;
  }

  /** The health targets of the members the pool was built with. */
  synchronized List<HealthChecker.Target> builtTargets() {
    return builtTargets;
  }

  public String name() {
    return config.name();
  }

  /** Whether the pool has names to follow (host names or an SRV name). */
  public boolean followsDns() {
    return !hosts.isEmpty() || config.dns().srv().isPresent();
  }

  /** Asks for every name of the pool; the future completes when every answer is recorded. */
  CompletableFuture<Void> lookUp(DnsLookups dns) {
    List<CompletableFuture<?>> all = new ArrayList<>();
    for (String host : hosts) {
      all.add(lookUpHost(dns, host));
    }
    config
        .dns()
        .srv()
        .ifPresent(
            srv ->
                all.add(
                    dns.srv(srv)
                        .handle(
                            (records, e) -> {
                              List<SrvRecord> use = srvAnswered(dns, srv, records, e);
                              List<CompletableFuture<?>> targets = new ArrayList<>();
                              for (String t : distinctTargets(use)) {
                                targets.add(lookUpHost(dns, t));
                              }
                              return CompletableFuture.allOf(
                                  targets.toArray(CompletableFuture[]::new));
                            })
                        .thenCompose(f -> f)));
    return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new));
  }

  private static List<String> distinctTargets(List<SrvRecord> records) {
    Set<String> out = new LinkedHashSet<>();
    records.forEach(r -> out.add(key(r.target())));
    return List.copyOf(out);
  }

  private CompletableFuture<Void> lookUpHost(DnsLookups dns, String host) {
    if (isIp(host)) {
      return CompletableFuture.completedFuture(null);
    }
    return dns.addresses(host).handle((a, e) -> hostAnswered(dns, host, a, e));
  }

  private synchronized Void hostAnswered(
      DnsLookups dns, String host, List<InetAddress> answer, Throwable e) {
    NameStatus was = names.get(host);
    Instant now = Instant.now();
    boolean ok = e == null && answer != null && !answer.isEmpty();
    dns.counters().record(config.name(), ok);
    List<InetAddress> keep = was != null ? was.addresses() : List.of();
    if (ok) {
      names().put(host, new NameStatus(host, "A/AAAA", List.copyOf(answer), true, null, now, now));
      if (!answer.equals(keep)) {
        log.info("pool {}: {} resolves to {} (was {})", config.name(), host, answer, keep);
      }
    } else {
      String why = e == null ? "no addresses" : Causes.message(e);
      names()
          .put(
              host,
              new NameStatus(
                  host, "A/AAAA", keep, false, why, was != null ? was.lastSuccess() : null, now));
      if (was == null || was.ok()) {
        log.warn(
            "pool {}: cannot resolve {}: {}; {}",
            config.name(),
            host,
            why,
            keep.isEmpty() ? "no server for it until it does" : "keeping " + keep);
      }
    }
    return null;
  }

  private synchronized List<SrvRecord> srvAnswered(
      DnsLookups dns, String srv, List<SrvRecord> answer, Throwable e) {
    Instant now = Instant.now();
    boolean ok = e == null && answer != null && !answer.isEmpty();
    dns.counters().record(config.name(), ok);
    if (ok) {
      if (!answer.equals(srvRecords)) {
        log.info("pool {}: SRV {} is {} (was {})", config.name(), srv, answer, srvRecords);
      }
      srvRecords = List.copyOf(answer);
      // Targets no longer listed: forget them, so their addresses cannot come back.
      names()
          .keySet()
          .removeIf(n -> !hosts.contains(n) && !distinctTargets(srvRecords).contains(n));
      srvStatus = new NameStatus(srv, "SRV", List.of(), true, null, now, now);
    } else {
      String why = e == null ? "no records" : Causes.message(e);
      if (srvStatus == null || srvStatus.ok()) {
        log.warn(
            "pool {}: SRV lookup of {} failed: {}; keeping {}",
            config.name(),
            srv,
            why,
            srvRecords);
      }
      srvStatus =
          new NameStatus(
              srv,
              "SRV",
              List.of(),
              false,
              why,
              srvStatus != null ? srvStatus.lastSuccess() : null,
              now);
    }
    return srvRecords;
  }

  /** The servers the pool has now: config (expanded by DNS), then SRV, then admin additions. */
  synchronized List<Member> members() {
    Map<InetSocketAddress, Member> out = new LinkedHashMap<>();
    for (ServerConfig sc : config.servers()) {
      HostPort hp = sc.address();
      for (InetAddress ip : addressesOf(hp.host())) {
        add(
            out,
            new Member(
                hp,
                new InetSocketAddress(ip, hp.port()),
                sc.weight(),
                sc.maxConnections(),
                sc.backup()));
      }
    }
    int best = Integer.MAX_VALUE;
    for (SrvRecord r : srvRecords) {
      if (!addressesOf(r.target()).isEmpty()) {
        best = Math.min(best, r.priority());
      }
    }
    for (SrvRecord r : srvRecords) {
      if (r.priority() != best) {
        continue; // RFC 2782: higher values only when the lowest have nothing
      }
      HostPort hp = new HostPort(r.target(), r.port());
      int w = Math.min(ServerConfig.MAX_WEIGHT, Math.max(1, r.weight()));
      for (InetAddress ip : addressesOf(r.target())) {
        add(out, new Member(hp, new InetSocketAddress(ip, r.port()), w, 0, false));
      }
    }
    for (Member m : added.values()) {
      add(out, m);
    }
    return List.copyOf(out.values());
  }

  private void add(Map<InetSocketAddress, Member> out, Member m) {
    // Without admin changes (the usual case) no identity is formatted: 10,000 pools per reload.
    if (!removed.isEmpty()
        && (removed.contains(identity(m.configured()))
            || removed.contains(identity(m.address())))) {
      return;
    }
    Integer w = weights.isEmpty() ? null : weights.get(identity(m.address()));
    if (w == null && !weights.isEmpty()) {
      w = weights.get(identity(m.configured()));
    }
    out.putIfAbsent(
        m.address(),
        w == null ? m : new Member(m.configured(), m.address(), w, m.maxConnections(), m.backup()));
  }

  private List<InetAddress> addressesOf(String host) {
    if (isIp(host)) {
      return List.of(NetUtil.createInetAddressFromIpAddressString(host));
    }
    NameStatus s = names.get(key(host));
    return s == null ? List.of() : s.addresses();
  }

  /** Warnings for names that did not resolve while the config was loaded. */
  synchronized List<ConfigError> loadWarnings(String source) {
    List<ConfigError> out = new ArrayList<>();
    for (int i = 0; i < config.servers().size(); i++) {
      HostPort hp = config.servers().get(i).address();
      if (!isIp(hp.host()) && addressesOf(hp.host()).isEmpty()) {
        NameStatus s = names.get(key(hp.host()));
        out.add(
            new ConfigError(
                source,
                "tollgate.pools." + config.name() + ".servers[" + i + "]",
                "cannot resolve host \""
                    + hp.host()
                    + "\" ("
                    + (s == null || s.lastError() == null ? "no answer yet" : s.lastError())
                    + "); the pool has no server for it until it resolves"));
      }
    }
    config
        .dns()
        .srv()
        .ifPresent(
            srv -> {
              if (srvRecords.isEmpty()) {
                out.add(
                    new ConfigError(
                        source,
                        "tollgate.pools." + config.name() + ".srv",
                        "no SRV records for \""
                            + srv
                            + "\" ("
                            + (srvStatus == null ? "no answer yet" : srvStatus.lastError())
                            + "); the pool has no server from it until there are"));
              }
            });
    return out;
  }

  /** The pool these members feed, once built (the snapshot builds it from {@link #members}). */
  synchronized void built(Pool pool, List<Member> members, List<HealthChecker.Target> targets) {
    this.pool = pool;
    this.current = members;
    this.builtTargets = targets;
  }

  /**
   * The snapshot went into force: changes now reach the health checker (as long as no later reload
   * committed), and with {@code dns} the names are looked up again every {@code resolve-every}.
   */
  synchronized void start(HealthChecker health, long generation, DnsLookups dns) {
    this.health = health;
    this.generation = generation;
    this.lookups = dns;
    if (dns != null && followsDns() && !stopped) {
      scheduleRefresh();
    }
  }

  private void scheduleRefresh() {
    timer = lookups.schedule(this::refresh, config.dns().resolveEvery().toNanos());
  }

  private void refresh() {
    DnsLookups dns;
    synchronized (this) {
      if (stopped) {
        return;
      }
      dns = lookups;
    }
    lookUp(dns)
        .whenComplete(
            (v, e) -> {
              synchronized (this) {
                if (stopped) {
                  return;
                }
                if (e != null) {
                  log.warn("pool {}: DNS refresh failed", config.name(), e);
                }
                rebuild();
                scheduleRefresh();
              }
            });
  }

  /** A reload replaced this pool (or Tollgate stops): no more lookups or changes. */
  synchronized void stop() {
    stopped = true;
    if (timer != null) {
      timer.cancel(false);
    }
  }

  /** Puts {@link #members} in force if they changed; false when the pool is no longer in force. */
  private boolean rebuild() {
    List<Member> next = members();
    if (next.equals(current) || pool == null) {
      return true;
    }
    Map<ServerKey, ServerState> states = new HashMap<>();
    if (health != null) {
      List<HealthChecker.Target> t = new ArrayList<>();
      for (Member m : next) {
        t.add(target(m));
      }
      Optional<Map<ServerKey, ServerState>> s = health.updatePool(config.name(), t, generation);
      if (s.isEmpty()) {
        return false;
      }
      states.putAll(s.get());
    } else {
      for (Backend b : pool.servers()) {
        states.put(b.state().key(), b.state());
      }
    }
    List<Backend> backends = new ArrayList<>();
    for (Member m : next) {
      ServerKey k = new ServerKey(config.name(), m.address());
      ServerState st = states.get(k);
      if (st == null) {
        st = new ServerState(k, m.configured().toString(), true, System::nanoTime);
      }
      backends.add(
          new Backend(m.configured(), m.address(), m.weight(), m.maxConnections(), st, m.backup()));
    }
    pool.replaceServers(backends);
    current = next;
    changedAtRunTime = true;
    return true;
  }

  // ---- the admin API ----------------------------------------------------------------------

  /** Adds a server (an IP address and port) until the next reload. */
  public synchronized void add(String address, int weight, boolean backup) throws Refused {
    HostPort hp = parse(address);
    if (!isIp(hp.host())) {
      throw new Refused(
          400,
          "\""
              + address
              + "\" is not an IP address and port (names come from"
              + " the config file, where DNS follows them)");
    }
    checkWeight(weight);
    InetSocketAddress a =
        new InetSocketAddress(NetUtil.createInetAddressFromIpAddressString(hp.host()), hp.port());
    if (members().stream().anyMatch(m -> m.address().equals(a))) {
      throw new Refused(409, "pool \"" + config.name() + "\" already has server " + address);
    }
    removed().remove(identity(a));
    removed().remove(identity(hp));
    added().put(identity(a), new Member(hp, a, weight, 0, backup));
    if (!rebuild()) {
      throw replacedByReload();
    }
  }

  /**
   * Removes a server until the next reload: an added one, a configured entry (a host name: all its
   * records), or one resolved address.
   */
  public synchronized void remove(String address) throws Refused {
    String id = identity(parse(address));
    requireMember(address, id);
    if (added().remove(id) == null) {
      removed().add(id);
    }
    if (!rebuild()) {
      throw replacedByReload();
    }
  }

  /** Sets the weight of the matching server(s) until the next reload. */
  public synchronized void weight(String address, int weight) throws Refused {
    checkWeight(weight);
    String id = identity(parse(address));
    requireMember(address, id);
    Member a = added.get(id);
    if (a != null) {
      added()
          .put(id, new Member(a.configured(), a.address(), weight, a.maxConnections(), a.backup()));
    } else {
      weights().put(id, weight);
    }
    if (!rebuild()) {
      throw replacedByReload();
    }
  }

  private Map<String, NameStatus> names() {
    if (names.isEmpty()) {
      names = new LinkedHashMap<>();
    }
    return names;
  }

  private Map<String, Member> added() {
    if (added.isEmpty()) {
      added = new LinkedHashMap<>();
    }
    return added;
  }

  private Set<String> removed() {
    if (removed.isEmpty()) {
      removed = new LinkedHashSet<>();
    }
    return removed;
  }

  private Map<String, Integer> weights() {
    if (weights.isEmpty()) {
      weights = new HashMap<>();
    }
    return weights;
  }

  private void requireMember(String address, String id) throws Refused {
    boolean known =
        members().stream()
            .anyMatch(m -> identity(m.configured()).equals(id) || identity(m.address()).equals(id));
    if (!known) {
      throw new Refused(
          404,
          "pool \""
              + config.name()
              + "\" has no server \""
              + address
              + "\" (servers: "
              + members().stream().map(m -> identity(m.address())).toList()
              + ")");
    }
  }

  private static void checkWeight(int weight) throws Refused {
    if (weight < 1 || weight > ServerConfig.MAX_WEIGHT) {
      throw new Refused(
          400,
          "weight " + weight + " is out of range (expected 1.." + ServerConfig.MAX_WEIGHT + ")");
    }
  }

  private Refused replacedByReload() {
    return new Refused(409, "a reload replaced pool \"" + config.name() + "\"; try again");
  }

  private static HostPort parse(String address) throws Refused {
    try {
      return HostPort.parse(address);
    } catch (IllegalArgumentException e) {
      throw new Refused(400, e.getMessage());
    }
  }

  // ---- status ---------------------------------------------------------------------------------

  /** The last lookup of each name (and of the SRV name), for {@code /status}. */
  public synchronized List<NameStatus> dnsStatus() {
    List<NameStatus> out = new ArrayList<>();
    if (srvStatus != null) {
      out.add(srvStatus);
    }
    out.addAll(names.values());
    return out;
  }

  /** Whether a name's last lookup failed and the pool serves its last good addresses. */
  public synchronized boolean stale() {
    return dnsStatus().stream().anyMatch(s -> !s.ok());
  }

  /** Whether the admin API changed the servers since the file was loaded. */
  public synchronized boolean changedAtRunTime() {
    return !added.isEmpty() || !removed.isEmpty() || !weights.isEmpty();
  }

  /** The pool's servers in force now. */
  public synchronized List<Backend> servers() {
    return pool == null ? List.of() : pool.servers();
  }

  public PoolConfig config() {
    return config;
  }

  static boolean isIp(String host) {
    return NetUtil.isValidIpV4Address(host) || NetUtil.isValidIpV6Address(host);
  }

  private static String key(String host) {
    String h = host.toLowerCase(Locale.ROOT);
    return h.endsWith(".") ? h.substring(0, h.length() - 1) : h;
  }

  private static String identity(HostPort hp) {
    if (isIp(hp.host())) {
      return identity(
          new InetSocketAddress(
              NetUtil.createInetAddressFromIpAddressString(hp.host()), hp.port()));
    }
    return key(hp.host()) + ":" + hp.port();
  }

  private static String identity(InetSocketAddress a) {
    String ip = NetUtil.toAddressString(a.getAddress());
    return (ip.indexOf(':') >= 0 ? "[" + ip + "]" : ip) + ":" + a.getPort();
  }
}
