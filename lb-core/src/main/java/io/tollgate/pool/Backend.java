package io.tollgate.pool;

import io.tollgate.config.HostPort;
import io.tollgate.health.ServerKey;
import io.tollgate.health.ServerState;
import java.net.InetSocketAddress;
import java.util.Objects;

/**
 * One server of a pool, with its address resolved once when the config snapshot is built (off the
 * event loops: connecting never does a DNS lookup on the data path), and the {@link ServerState}
 * (health, drain, open connections) that outlives the snapshot.
 */
public final class Backend {
  private final HostPort configured;
  private final InetSocketAddress address;
  private final int weight;
  private final int maxConnections;
  private final ServerState state;
  private final boolean backup;

  /** {@link #toString()}, built once: every connection records its server by this string. */
  private final String text;

  /** A backend that is always up, with no connection limit (tests, tools). */
  public Backend(HostPort configured, InetSocketAddress address, int weight) {
    this(
        configured,
        address,
        weight,
        0,
        new ServerState(
            new ServerKey("-", address), configured.toString(), true, System::nanoTime));
  }

  /**
   * @param maxConnections most open connections, 0 for no limit
   * @param state this server's health and counters, shared across snapshots
   */
  public Backend(
      HostPort configured,
      InetSocketAddress address,
      int weight,
      int maxConnections,
      ServerState state) {
    this(configured, address, weight, maxConnections, state, false);
  }

  /**
   * @param backup takes connections only while every server of its pool that is not a backup is
   *     down or draining
   */
  public Backend(
      HostPort configured,
      InetSocketAddress address,
      int weight,
      int maxConnections,
      ServerState state,
      boolean backup) {
    this.backup = backup;
    this.configured = Objects.requireNonNull(configured, "configured");
    this.address = Objects.requireNonNull(address, "address");
    if (address.isUnresolved()) {
      throw new IllegalArgumentException("backend address must be resolved: " + address);
    }
    this.weight = weight;
    this.maxConnections = maxConnections;
    this.state = Objects.requireNonNull(state, "state");
    this.text = configured.toString();
  }

  /** The address as written in config, for logs. */
  public HostPort configured() {
    return configured;
  }

  /**
   * How logs, metrics and the hash ring name this server: the address as written, and for a server
   * found through DNS (a name's A/AAAA record, an SRV target) also the address it resolved to,
   * since one written name can stand for several servers.
   */
  public String label() {
    String ip = address.getAddress().getHostAddress();
    if (ip.equalsIgnoreCase(configured.host()) || sameIp(configured.host(), address)) {
      return configured.toString();
    }
    return configured
        + "="
        + (ip.indexOf(':') >= 0 ? "[" + ip + "]" : ip)
        + ":"
        + address.getPort();
  }

  private static boolean sameIp(String host, InetSocketAddress address) {
    byte[] literal = io.netty.util.NetUtil.createByteArrayFromIpAddressString(host);
    return literal != null && java.util.Arrays.equals(literal, address.getAddress().getAddress());
  }

  /** Where to connect. */
  public InetSocketAddress address() {
    return address;
  }

  public int weight() {
    return weight;
  }

  /** Most connections open at once; 0 means no limit. */
  public int maxConnections() {
    return maxConnections;
  }

  public ServerState state() {
    return state;
  }

  /** A backup server: used only while no other server of the pool is up and not draining. */
  public boolean backup() {
    return backup;
  }

  /** Whether it may take one more connection now (advisory; {@link Pool#reserve} decides). */
  boolean hasRoom() {
    return maxConnections <= 0 || state.activeConnections() < maxConnections;
  }

  @Override
  public String toString() {
    return text;
  }
}
