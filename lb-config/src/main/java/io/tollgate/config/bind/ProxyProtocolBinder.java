package io.tollgate.config.bind;

import io.tollgate.config.BackendProxyProtocol;
import io.tollgate.config.Cidr;
import io.tollgate.config.UpstreamProxyProtocol;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Binds the PROXY protocol keys: {@code proxy-protocol} and {@code proxy-protocol-tlvs} of a pool
 * (toward its servers) and {@code proxy-protocol} of a listener (from an upstream balancer).
 */
final class ProxyProtocolBinder {
  private ProxyProtocolBinder() {}

  /** A pool's setting; {@link BackendProxyProtocol#OFF} when absent, empty on an error. */
  static Optional<BackendProxyProtocol> pool(Node pool) {
    BackendProxyProtocol d = BackendProxyProtocol.OFF;
    Node versionNode = pool.child(Schema.POOL_PROXY_PROTOCOL.name());
    Optional<BackendProxyProtocol.Version> version =
        versionNode.exists()
            ? Readers.choice(
                versionNode,
                Schema.POOL_PROXY_PROTOCOL,
                BackendProxyProtocol.Version.class,
                "PROXY protocol version")
            : Optional.of(d.version());
    Node tlvs = pool.child(Schema.POOL_PROXY_TLVS.name());
    if (tlvs.exists()
        && Readers.object(tlvs, Schema.PROXY_TLVS_SHAPE, Schema.POOL_PROXY_TLVS.expected())
            .isEmpty()) {
      return Optional.empty();
    }
    Optional<Boolean> authority = flag(tlvs, Schema.TLV_AUTHORITY, d.authority());
    Optional<Boolean> alpn = flag(tlvs, Schema.TLV_ALPN, d.alpn());
    Optional<Boolean> uniqueId = flag(tlvs, Schema.TLV_UNIQUE_ID, d.uniqueId());
    Optional<Boolean> ssl = flag(tlvs, Schema.TLV_SSL, d.ssl());
    Optional<Boolean> crc32c = flag(tlvs, Schema.TLV_CRC32C, d.crc32c());
    if (version.isEmpty()
        || authority.isEmpty()
        || alpn.isEmpty()
        || uniqueId.isEmpty()
        || ssl.isEmpty()
        || crc32c.isEmpty()) {
      return Optional.empty();
    }
    if (tlvs.exists() && version.get() == BackendProxyProtocol.Version.V1) {
      tlvs.warn(
          "proxy-protocol-tlvs has no effect with proxy-protocol = v1 (TLVs exist only in"
              + " v2)");
    }
    return Optional.of(
        new BackendProxyProtocol(
            version.get(), authority.get(), alpn.get(), uniqueId.get(), ssl.get(), crc32c.get()));
  }

  private static Optional<Boolean> flag(Node parent, Schema.Key key, boolean fallback) {
    Node node = parent.exists() ? parent.child(key.name()) : parent;
    return parent.exists() && node.exists() ? Readers.bool(node, key) : Optional.of(fallback);
  }

  /** A listener's setting; {@link UpstreamProxyProtocol#OFF} when absent, empty on an error. */
  static Optional<UpstreamProxyProtocol> listener(Node listener) {
    Node node = listener.child(Schema.LISTENER_PROXY_PROTOCOL.name());
    if (!node.exists()) {
      return Optional.of(UpstreamProxyProtocol.OFF);
    }
    if (Readers.object(node, Schema.UPSTREAM_PROXY_SHAPE, Schema.LISTENER_PROXY_PROTOCOL.expected())
        .isEmpty()) {
      return Optional.empty();
    }
    Node modeNode = node.child(Schema.UPSTREAM_PROXY_MODE.name());
    Optional<UpstreamProxyProtocol.Mode> mode =
        modeNode.exists()
            ? Readers.choice(
                modeNode,
                Schema.UPSTREAM_PROXY_MODE,
                UpstreamProxyProtocol.Mode.class,
                "PROXY protocol mode")
            : Optional.of(UpstreamProxyProtocol.Mode.OFF);
    Node trustedNode = node.child(Schema.UPSTREAM_PROXY_TRUSTED.name());
    Optional<List<Cidr>> trusted = Optional.of(List.of());
    if (trustedNode.exists()) {
      trusted = networks(trustedNode);
    } else if (mode.isPresent() && mode.get() != UpstreamProxyProtocol.Mode.OFF) {
      // No default: a header decides the client address, so trusting everyone by accident
      // would let any client pick its own address.
      trustedNode.error(
          "missing required key \"trusted\" (expected "
              + Schema.UPSTREAM_PROXY_TRUSTED.expected()
              + "; only these sources may set the client"
              + " address with a header; [\"0.0.0.0/0\", \"::/0\"] trusts every source)");
      trusted = Optional.empty();
    }
    if (mode.isEmpty() || trusted.isEmpty()) {
      return Optional.empty();
    }
    if (mode.get() != UpstreamProxyProtocol.Mode.OFF && trusted.get().isEmpty()) {
      trustedNode.error(
          "trusted is empty (expected "
              + Schema.UPSTREAM_PROXY_TRUSTED.expected()
              + "); with no trusted source every header would be refused");
      return Optional.empty();
    }
    return Optional.of(new UpstreamProxyProtocol(mode.get(), trusted.get()));
  }

  private static Optional<List<Cidr>> networks(Node node) {
    Optional<List<Node>> elements = Readers.list(node, Schema.UPSTREAM_PROXY_TRUSTED);
    if (elements.isEmpty()) {
      return Optional.empty();
    }
    List<Cidr> out = new ArrayList<>();
    boolean ok = true;
    for (Node e : elements.get()) {
      Optional<Cidr> cidr =
          Readers.string(e, Schema.UPSTREAM_PROXY_TRUSTED)
              .flatMap(
                  s -> {
                    Optional<Cidr> c = Cidr.parse(s);
                    if (c.isEmpty()) {
                      e.error(
                          e.show()
                              + " is not a network (expected an IP address or CIDR such as"
                              + " \"10.0.0.0/8\", \"192.0.2.7\" or \"2001:db8::/32\"; host names are not"
                              + " allowed)");
                    }
                    return c;
                  });
      ok &= cidr.isPresent();
      cidr.ifPresent(out::add);
    }
    return ok ? Optional.of(out) : Optional.empty();
  }
}
