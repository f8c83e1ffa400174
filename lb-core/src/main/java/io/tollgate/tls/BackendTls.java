package io.tollgate.tls;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslHandler;
import java.net.InetSocketAddress;

/** How a reencrypt route opens TLS toward one pool's servers. */
public interface BackendTls {
  /**
   * A client-side handler toward {@code server}: SNI and verified name are the pool's {@code
   * server-name} or else {@code clientSni} (when both are absent: no SNI, and the certificate must
   * name the server's IP address); ALPN offers exactly {@code alpn} (what the client negotiated) or
   * nothing when it is {@code null}.
   *
   * @throws IllegalArgumentException when {@code alpn} is not in the ALPN list of any reencrypt
   *     route using this pool (contexts are built at load for exactly those values)
   */
  SslHandler newHandler(
      ByteBufAllocator alloc, InetSocketAddress server, String clientSni, String alpn);
}
