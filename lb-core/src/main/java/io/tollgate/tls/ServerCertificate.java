package io.tollgate.tls;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ReferenceCountedOpenSslEngine;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;

/**
 * One certificate ready to serve under one route policy: its server {@link SslContext} and the OCSP
 * response to staple on every connection ({@code null}: none, or a provider that cannot).
 */
record ServerCertificate(CertifiedKey certified, SslContext context, byte[] ocspStaple) {

  /** A server handler for one connection; the caller sets the handshake timeout. */
  SslHandler newHandler(ByteBufAllocator alloc) {
    SslHandler handler = context.newHandler(alloc);
    if (ocspStaple != null && handler.engine() instanceof ReferenceCountedOpenSslEngine engine) {
      // Must happen before the handshake starts; the engine copies nothing, so share the array.
      engine.setOcspResponse(ocspStaple);
    }
    return handler;
  }
}
