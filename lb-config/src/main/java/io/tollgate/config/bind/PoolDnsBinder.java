package io.tollgate.config.bind;

import io.tollgate.config.DnsConfig;
import io.tollgate.config.HostPort;
import io.tollgate.config.PoolDnsConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** Binds a pool's {@code resolve-every} and {@code srv}, and the {@code tollgate.dns} section. */
final class PoolDnsBinder {
  private PoolDnsBinder() {}

  static Optional<PoolDnsConfig> bind(Node pool) {
    Node everyNode = pool.child(Schema.RESOLVE_EVERY.name());
    Optional<Duration> every =
        everyNode.exists()
            ? Readers.positiveDuration(everyNode, Schema.RESOLVE_EVERY)
            : Optional.of(PoolDnsConfig.DEFAULT_RESOLVE_EVERY);
    Node srvNode = pool.child(Schema.SRV.name());
    Optional<Optional<String>> srv = Optional.of(Optional.empty());
    if (srvNode.exists()) {
      srv = Readers.string(srvNode, Schema.SRV).flatMap(name -> srvName(srvNode, name));
    }
    if (every.isEmpty() || srv.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(new PoolDnsConfig(every.get(), srv.get()));
  }

  /** A DNS name: dot-separated labels of letters, digits, '-' and '_' (SRV names start so). */
  private static Optional<Optional<String>> srvName(Node node, String text) {
    String name = text.trim().toLowerCase(Locale.ROOT);
    if (name.endsWith(".")) {
      name = name.substring(0, name.length() - 1);
    }
    boolean ok = !name.isEmpty() && name.length() <= 253;
    for (String label : name.split("\\.", -1)) {
      ok &= !label.isEmpty() && label.length() <= 63 && label.matches("[a-z0-9_-]+");
    }
    if (!ok) {
      node.error(node.show() + " is not a DNS name (expected " + Schema.SRV.expected() + ")");
      return Optional.empty();
    }
    return Optional.of(Optional.of(name));
  }

  /** {@code tollgate.dns { servers = [...], timeout = 2s }}; absent means the system's. */
  static Optional<DnsConfig> dns(Node node) {
    if (!node.exists()) {
      return Optional.of(DnsConfig.SYSTEM);
    }
    if (Readers.object(node, Schema.DNS_SHAPE, Schema.DNS.expected()).isEmpty()) {
      return Optional.empty();
    }
    Node serversNode = node.child(Schema.DNS_SERVERS.name());
    List<HostPort> servers = new ArrayList<>();
    boolean ok = true;
    if (serversNode.exists()) {
      Optional<List<Node>> elements = Readers.list(serversNode, Schema.DNS_SERVERS);
      ok = elements.isPresent();
      for (Node element : elements.orElse(List.of())) {
        Optional<HostPort> a = Addresses.read(element, Schema.DNS_SERVERS);
        ok &= a.isPresent();
        a.ifPresent(servers::add);
      }
    }
    Node timeoutNode = node.child(Schema.DNS_TIMEOUT.name());
    Optional<Duration> timeout =
        timeoutNode.exists()
            ? Readers.positiveDuration(timeoutNode, Schema.DNS_TIMEOUT)
            : Optional.of(DnsConfig.DEFAULT_TIMEOUT);
    if (!ok || timeout.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(new DnsConfig(servers, timeout.get()));
  }
}
