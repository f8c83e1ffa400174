/**
 * Relays: connect to a backend on the client's event loop, replay the peeked bytes, then copy
 * bytes both ways with backpressure, half-close and reset propagation
 * ({@link io.tollgate.relay.PendingRelay}, {@code RelayHandler}, {@code RelaySession}).
 */
package io.tollgate.relay;
