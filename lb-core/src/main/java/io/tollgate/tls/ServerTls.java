package io.tollgate.tls;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslHandler;
import java.util.Collection;

/** The client-facing TLS of one offload or reencrypt route. */
public interface ServerTls {
  /**
   * A server-side handler for one connection, with the certificate for {@code sni} (the ECDSA one
   * when the client can use it and the route has one, else RSA) and OCSP response stapled when
   * configured; {@code null} when no certificate covers {@code sni} ({@code certificate = auto}).
   * The handshake timeout is left at Netty's default for the caller to set.
   */
  SslHandler newHandler(ByteBufAllocator alloc, String sni, boolean clientSupportsEcdsa);

  /**
   * The certificate {@link #newHandler} would present, or {@code null} when none covers {@code
   * sni} (for logs and tests).
   */
  CertifiedKey certificateFor(String sni, boolean clientSupportsEcdsa);

  /** Every certificate this route may present (for expiry metrics). */
  Collection<CertifiedKey> certificates();
}
