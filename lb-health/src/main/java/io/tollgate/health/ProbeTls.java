package io.tollgate.health;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslHandler;
import java.net.InetSocketAddress;

/**
 * Opens the TLS side of a pool's tls/https probes. Built with the data path's TLS code (in lb-core,
 * from the pool's {@code tls} block and the check's {@code verify}), so a check trusts exactly what
 * a real connection to the pool trusts: the pool's CA, else the JDK's trust store.
 */
@FunctionalInterface
public interface ProbeTls {
  /**
   * A client-side handler toward {@code server}.
   *
   * @param serverName SNI to send and name the certificate must match when verifying; {@code null}:
   *     no SNI, and a verified certificate must name the server's IP address
   */
  SslHandler newHandler(ByteBufAllocator alloc, InetSocketAddress server, String serverName);
}
