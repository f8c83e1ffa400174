package io.tollgate.config.bind;

import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import io.tollgate.config.BackendProxyProtocol;
import io.tollgate.config.BackendTlsConfig;
import io.tollgate.config.Cidr;
import io.tollgate.config.HostPort;
import io.tollgate.config.PoolConfig;
import io.tollgate.config.PoolDnsConfig;
import io.tollgate.config.ServerConfig;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/** Binds {@code tollgate.pools}: named groups of backend servers. */
final class PoolsBinder {
  private PoolsBinder() {}

  /**
   * What the pools section yielded.
   *
   * @param names every pool name written, valid or not, so routes naming a broken pool are not also
   *     reported as naming a missing one
   * @param withTls the names of the pools that have a {@code tls} block, valid or not
   * @param pools the pools, present only if all of them are valid
   */
  record Result(Set<String> names, Set<String> withTls, Optional<Map<String, PoolConfig>> pools) {}

  static Result bind(Node node, TlsBinder tls) {
    return bind(node, tls, BindMemo.NONE);
  }

  /** As {@link #bind(Node, TlsBinder)}, taking pools bound before from {@code memo}. */
  static Result bind(Node node, TlsBinder tls, BindMemo memo) {
    if (!node.exists()) {
      return new Result(Set.of(), Set.of(), Optional.of(Map.of()));
    }
    if (node.type() != ConfigValueType.OBJECT) {
      node.error(Readers.wrongType(node, Schema.POOLS.expected()));
      return new Result(Set.of(), Set.of(), Optional.empty());
    }
    ConfigObject object = (ConfigObject) node.value();
    // The parsed object's own key set: no sorted copy of 10,000 names a reload. Only the pools
    // bound again are sorted, and they are bound in that order, so their problems are reported
    // in the order a full bind finds them.
    Set<String> names = object.keySet();
    Set<String> withTls = new HashSet<>();
    Map<String, PoolConfig> pools = new HashMap<>(names.size() * 4 / 3 + 1);
    boolean ok = true;
    List<String> boundAgain = new ArrayList<>();
    for (String name : names) {
      // Taken over by the parsed value alone, before any Node is made (10,000 pools a reload).
      ConfigValue value = object.get(name);
      BindMemo.BoundPool earlier = memo.pool(value, name, tls);
      if (earlier != null) {
        if (earlier.hasTls()) {
          withTls.add(name);
        }
        pools.put(name, earlier.pool());
        memo.keep(value, earlier);
      } else {
        boundAgain.add(name);
      }
    }
    Collections.sort(boundAgain);
    for (String name : boundAgain) {
      Node pool = node.child(name);
      boolean hasTls = pool.child(Schema.POOL_TLS.name()).exists();
      if (hasTls) {
        withTls.add(name);
      }
      int problemsBefore = node.problemCount();
      Optional<PoolConfig> config = bindPool(name, pool, tls);
      ok &= config.isPresent();
      config.ifPresent(p -> pools.put(name, p));
      if (config.isPresent() && node.problemCount() == problemsBefore) {
        memo.boundPool(pool.value(), name, config.get(), tls, hasTls);
      }
    }
    Result result =
        new Result(
            Collections.unmodifiableSet(names),
            Collections.unmodifiableSet(withTls),
            ok ? Optional.of(pools) : Optional.empty());
    memo.poolsBound(result.names(), result.withTls(), boundAgain);
    return result;
  }

  private static Optional<PoolConfig> bindPool(String name, Node pool, TlsBinder tls) {
    if (Readers.object(pool, Schema.POOL_SHAPE, "a pool such as { servers = [\"10.0.0.1:443\"] }")
        .isEmpty()) {
      return Optional.empty();
    }
    Optional<PoolDnsConfig> dns = PoolDnsBinder.bind(pool);
    Node serversNode = pool.child(Schema.SERVERS.name());
    Optional<List<ServerConfig>> servers = Optional.empty();
    if (!serversNode.exists() && dns.flatMap(PoolDnsConfig::srv).isPresent()) {
      servers = Optional.of(List.of()); // every server comes from the SRV records
    } else if (Readers.required(serversNode, Schema.SERVERS)) {
      servers = bindServers(serversNode);
    }
    Node attemptsNode = pool.child(Schema.CONNECT_ATTEMPTS.name());
    OptionalInt attempts =
        attemptsNode.exists()
            ? Readers.intInRange(
                attemptsNode, Schema.CONNECT_ATTEMPTS, 1, Schema.MAX_CONNECT_ATTEMPTS)
            : OptionalInt.of(Schema.DEFAULT_CONNECT_ATTEMPTS);
    Optional<Optional<BackendTlsConfig>> backendTls =
        tls.backendTls(name, pool.child(Schema.POOL_TLS.name()));
    // Health checks, balancing and passive ejection: their own binder.
    Optional<PoolHealthBinder.Result> health = PoolHealthBinder.bind(pool);
    Optional<BackendProxyProtocol> proxy = ProxyProtocolBinder.pool(pool);
    Optional<Optional<InetAddress>> source = source(pool.child(Schema.POOL_SOURCE.name()));
    if (source.isEmpty()
        || servers.isEmpty()
        || attempts.isEmpty()
        || backendTls.isEmpty()
        || health.isEmpty()
        || proxy.isEmpty()
        || dns.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(
        new PoolConfig(
            name,
            servers.get(),
            attempts.getAsInt(),
            backendTls.get(),
            health.get().healthCheck(),
            health.get().balance(),
            health.get().passive(),
            proxy.get(),
            dns.get(),
            source.get()));
  }

  /**
   * {@code source}: an IP literal (never a name to resolve) that backend connections bind to; empty
   * inside when absent. Whether this host has the address shows at the first connect.
   */
  private static Optional<Optional<InetAddress>> source(Node node) {
    if (!node.exists()) {
      return Optional.of(Optional.empty());
    }
    Optional<String> text = Readers.string(node, Schema.POOL_SOURCE);
    if (text.isEmpty()) {
      return Optional.empty();
    }
    Optional<Cidr> literal = Cidr.parse(text.get()).filter(c -> !text.get().contains("/"));
    if (literal.isEmpty()) {
      node.error(
          node.show() + " is not an IP address (expected " + Schema.POOL_SOURCE.expected() + ")");
      return Optional.empty();
    }
    try {
      return Optional.of(Optional.of(InetAddress.getByAddress(literal.get().network())));
    } catch (java.net.UnknownHostException e) {
      throw new IllegalStateException("an address of 4 or 16 bytes", e);
    }
  }

  private static Optional<List<ServerConfig>> bindServers(Node node) {
    Optional<List<Node>> elements = Readers.list(node, Schema.SERVERS);
    if (elements.isEmpty()) {
      return Optional.empty();
    }
    if (elements.get().isEmpty()) {
      node.error("pool has no servers (expected " + Schema.SERVERS.expected() + ")");
      return Optional.empty();
    }
    List<ServerConfig> out = new ArrayList<>();
    Map<String, Node> seen = new HashMap<>();
    boolean ok = true;
    for (Node element : elements.get()) {
      Optional<ServerConfig> server = bindServer(element);
      if (server.isPresent()) {
        Node first = seen.putIfAbsent(Addresses.identity(server.get().address()), element);
        if (first != null) {
          element.error(
              "\""
                  + server.get().address()
                  + "\" is already listed at "
                  + first.path()
                  + " (expected each server once; use weight to send it more traffic)");
          server = Optional.empty();
        }
      }
      ok &= server.isPresent();
      server.ifPresent(out::add);
    }
    if (ok && out.stream().allMatch(ServerConfig::backup)) {
      node.warn(
          "every server of the pool is a backup, so they are used as ordinary servers (backup ="
              + " true means: only while every server that is not a backup is down)");
    }
    return ok ? Optional.of(out) : Optional.empty();
  }

  private static Optional<ServerConfig> bindServer(Node node) {
    switch (node.type()) {
      case STRING:
        return Addresses.read(node, Schema.SERVER_ADDRESS)
            .map(a -> new ServerConfig(a, Schema.DEFAULT_WEIGHT));
      case OBJECT:
        // Already known to be an object: this call only reports unknown keys.
        Readers.object(node, Schema.SERVER, "a server object");
        Node addressNode = node.child(Schema.SERVER_ADDRESS.name());
        Optional<HostPort> address =
            Readers.required(addressNode, Schema.SERVER_ADDRESS)
                ? Addresses.read(addressNode, Schema.SERVER_ADDRESS)
                : Optional.empty();
        Node weightNode = node.child(Schema.WEIGHT.name());
        OptionalInt weight =
            weightNode.exists()
                ? Readers.intInRange(weightNode, Schema.WEIGHT, 1, ServerConfig.MAX_WEIGHT)
                : OptionalInt.of(Schema.DEFAULT_WEIGHT);
        OptionalInt maxConnections = PoolHealthBinder.maxConnections(node);
        Node backupNode = node.child(Schema.BACKUP.name());
        Optional<Boolean> backup =
            backupNode.exists() ? Readers.bool(backupNode, Schema.BACKUP) : Optional.of(false);
        if (address.isEmpty() || weight.isEmpty() || maxConnections.isEmpty() || backup.isEmpty()) {
          return Optional.empty();
        }
        return Optional.of(
            new ServerConfig(
                address.get(), weight.getAsInt(), maxConnections.getAsInt(), backup.get()));
      default:
        node.error(
            Readers.wrongType(
                node,
                "a server: \"host:port\", or { address = \"host:port\", weight = N,"
                    + " max-connections = N }"));
        return Optional.empty();
    }
  }
}
