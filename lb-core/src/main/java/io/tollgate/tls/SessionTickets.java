package io.tollgate.tls;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.ssl.ReferenceCountedOpenSslEngine;
import io.netty.handler.ssl.SslHandler;
import io.netty.internal.tcnative.SSL;

/**
 * Sends the TLS 1.3 NewSessionTicket messages when the server handshake completes, as nginx and
 * HAProxy do. BoringSSL queues them after the handshake and writes them with the next {@code
 * SSL_write}, which through Netty means the first application bytes: a client whose backend has not
 * answered yet would get no ticket, and could not resume. A zero-length {@code SSL_write} writes
 * the queued messages (and nothing else) into the engine's network buffer; the caller's flush then
 * makes the {@link SslHandler} wrap and send them.
 */
public final class SessionTickets {
  /**
   * The source of every zero-length write: nothing is read from it, so one buffer, never released,
   * serves every connection instead of an allocation per handshake.
   */
  private static final ByteBuf NOTHING = Unpooled.directBuffer(1);

  private SessionTickets() {}

  /**
   * Queues the pending tickets of {@code handler}'s engine for the next flush. Call on the
   * channel's event loop once its handshake succeeded, then flush. No effect with the JDK provider
   * (its engine hands tickets to the SslHandler as handshake output) or TLS 1.2 (the ticket is part
   * of the handshake).
   */
  public static void queuePending(SslHandler handler) {
    if (handler.engine() instanceof ReferenceCountedOpenSslEngine engine) {
      // The engine's own lock: the same one its wrap and unwrap hold around SSL calls.
      synchronized (engine) {
        if (!engine.isOutboundDone()) {
          SSL.writeToSSL(engine.sslPointer(), NOTHING.memoryAddress(), 0);
        }
      }
    }
  }
}
