package io.tollgate.tls;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslHandler;
import io.tollgate.inspect.EcdsaSupport;
import java.util.Collection;

/** The client-facing TLS of one offload or reencrypt route. */
public interface ServerTls {
  /**
   * A server-side handler for one connection, with the certificate for {@code sni} (the ECDSA one
   * when the route has one and the client accepts its curve under the version that will be
   * negotiated, else RSA) and OCSP response stapled when configured; {@code null} when no
   * certificate covers {@code sni} ({@code certificate = auto}). The handshake timeout is left at
   * Netty's default for the caller to set.
   */
  SslHandler newHandler(ByteBufAllocator alloc, String sni, EcdsaSupport clientEcdsa);

  /** As above for a client that takes any ECDSA certificate ({@code true}) or none. */
  default SslHandler newHandler(ByteBufAllocator alloc, String sni, boolean clientSupportsEcdsa) {
    return newHandler(alloc, sni, clientSupportsEcdsa ? EcdsaSupport.ANY : EcdsaSupport.NONE);
  }

  /**
   * The certificate {@link #newHandler} would present, or {@code null} when none covers {@code sni}
   * (for logs and tests).
   */
  CertifiedKey certificateFor(String sni, EcdsaSupport clientEcdsa);

  /** As above for a client that takes any ECDSA certificate ({@code true}) or none. */
  default CertifiedKey certificateFor(String sni, boolean clientSupportsEcdsa) {
    return certificateFor(sni, clientSupportsEcdsa ? EcdsaSupport.ANY : EcdsaSupport.NONE);
  }

  /** Every certificate this route may present (for expiry metrics). */
  Collection<CertifiedKey> certificates();

  /**
   * Whether {@link #newHandler} gives {@code null} because the route's certificate has not been
   * issued yet ({@code certificate = acme}), rather than because none covers the name.
   */
  default boolean awaitingCertificate() {
    return false;
  }

  /**
   * For a hello that offers exactly {@code acme-tls/1}: the handler answering the route's pending
   * tls-alpn-01 validation of {@code sni}, or {@code null} (no ACME on this route, or nothing
   * pending: the hello is then routed as usual).
   */
  default SslHandler challengeHandler(ByteBufAllocator alloc, String sni) {
    return null;
  }
}
