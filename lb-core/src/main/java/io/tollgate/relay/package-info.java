/**
 * Relays: connect to a backend on the client's event loop, replay the peeked bytes, then copy
 * bytes both ways with backpressure, half-close and reset propagation
 * ({@link io.tollgate.relay.PendingRelay}, {@code RelayHandler}, {@code RelaySession}).
 *
 * <p>Failures are classified once, by {@link io.tollgate.net.FailureKind} (lb-net, shared with
 * the health checks), and each stage words the kind as its close reason: before the relay
 * ({@code PendingRelay}: client handshake, backend connect and handshake) TLS kinds are
 * {@code handshake_*}/{@code backend_*}, during it ({@code RelaySession.failed}) {@code tls_error};
 * socket kinds are resets, anything else an {@code internal_error} logged with its stack trace.
 * The detail is {@link io.tollgate.net.Causes#message}, the deepest message of the cause chain.
 */
package io.tollgate.relay;
