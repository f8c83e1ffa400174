/**
 * Relays: connect to a backend on the client's event loop, replay the peeked bytes, then copy bytes
 * both ways with backpressure, half-close and reset propagation ({@link
 * io.tollgate.relay.PendingRelay}, {@code RelayHandler}, {@code RelaySession}).
 *
 * <p>{@code BackendConnector} tries the pool's servers in order, each attempt under a {@link
 * io.tollgate.pool.Lease}, and hands the connected backend channel and its lease to {@code
 * PendingRelay}, which puts a {@code RelayHandler} in place of the connector's placeholder and of
 * itself, by the names in {@link io.tollgate.connection.NettyPipeline}. The relay tells the lease
 * about the server's first byte or an early reset; the lease releases the server's slot when the
 * backend channel closes.
 *
 * <p>Failures are classified once, by {@link io.tollgate.net.FailureKind} (lb-net, shared with the
 * health checks), and each stage words the kind as its close reason: before the relay ({@code
 * PendingRelay}: client handshake, backend connect and handshake) TLS kinds are {@code
 * handshake_*}/{@code backend_*}, during it ({@code RelaySession.failed}) {@code tls_error}; socket
 * kinds are resets, anything else an {@code internal_error} logged with its stack trace. The detail
 * is {@link io.tollgate.net.Causes#message}, the deepest message of the cause chain.
 */
package io.tollgate.relay;
