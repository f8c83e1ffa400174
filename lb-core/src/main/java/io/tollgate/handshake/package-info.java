/**
 * Handshake scheduling: keeps TLS handshakes, the most expensive thing an event loop does, from
 * delaying cheap work and from letting one route's flood take another route's share.
 *
 * <p>Every read of a terminated connection whose handshake is still running waits in its event
 * loop's {@link io.tollgate.handshake.HandshakeQueue}, one queue per route, served round-robin with
 * a bounded budget of handshake work per loop turn; everything else the loop does (accepting,
 * routing passthrough connections, relaying established ones, admin and health traffic) runs
 * between those budgets. With {@code io.handshake-threads} (opt-in) the first step, the
 * ClientHello's, runs on {@link io.tollgate.handshake.HandshakeThreads} at a lowered CPU priority
 * instead. See the README's "One tenant's handshake flood against another tenant".
 */
package io.tollgate.handshake;
