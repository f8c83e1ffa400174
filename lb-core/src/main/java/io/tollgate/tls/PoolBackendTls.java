package io.tollgate.tls;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;

/** {@link BackendTls} of one pool: a client context per ALPN value, built at load. */
final class PoolBackendTls implements BackendTls {
  private final String poolName;
  private final Optional<String> serverName;
  private final boolean verify;
  private final SslContext withoutAlpn;
  private final Map<String, SslContext> byAlpn;

  PoolBackendTls(
      String poolName,
      Optional<String> serverName,
      boolean verify,
      SslContext withoutAlpn,
      Map<String, SslContext> byAlpn) {
    this.poolName = poolName;
    this.serverName = serverName;
    this.verify = verify;
    this.withoutAlpn = withoutAlpn;
    this.byAlpn = Map.copyOf(byAlpn);
  }

  @Override
  public SslHandler newHandler(
      ByteBufAllocator alloc, InetSocketAddress server, String clientSni, String alpn) {
    SslContext context = withoutAlpn;
    if (alpn != null) {
      context = byAlpn.get(alpn);
      if (context == null) {
        throw new IllegalArgumentException(
            "pool "
                + poolName
                + " has no backend TLS context for ALPN "
                + alpn
                + " (built for "
                + byAlpn.keySet()
                + ")");
      }
    }
    String name = serverName.orElse(clientSni);
    if (name != null && name.isEmpty()) {
      name = null;
    }
    // The peer host is what the engine sends as SNI (host names only, never IPs) and what the
    // certificate is checked against.
    String peerHost = name != null ? name : server.getAddress().getHostAddress();
    SslHandler handler = context.newHandler(alloc, peerHost, server.getPort());
    SSLEngine engine = handler.engine();
    SSLParameters parameters = engine.getSSLParameters();
    parameters.setEndpointIdentificationAlgorithm(verify ? "HTTPS" : null);
    if (name != null) {
      try {
        parameters.setServerNames(List.of(new SNIHostName(name)));
      } catch (IllegalArgumentException e) {
        // Not a valid SNI host name (e.g. an underscore): send none; verification still uses it.
        parameters.setServerNames(List.of());
      }
    } else {
      parameters.setServerNames(List.of());
    }
    engine.setSSLParameters(parameters);
    return handler;
  }

  /**
   * The same contexts with no {@code server-name} of their own: the name given to {@link
   * #newHandler} is sent and verified (health checks pass their own).
   */
  PoolBackendTls withNamePerConnection() {
    return new PoolBackendTls(poolName, Optional.empty(), verify, withoutAlpn, Map.of());
  }

  /** The ALPN values a context was built for (tests). */
  java.util.Set<String> alpnValues() {
    return byAlpn.keySet();
  }

  @Override
  public String toString() {
    return "BackendTls[" + poolName + ", verify=" + verify + ", alpn=" + byAlpn.keySet() + "]";
  }
}
