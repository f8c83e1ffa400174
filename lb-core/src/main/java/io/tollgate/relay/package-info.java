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
 *
 * <p>Only the relay closes a relayed channel: {@code PendingRelay} turns Netty's {@code AUTO_CLOSE}
 * off on both. The access log and the per-reason metric run on the client's close future, so
 * whatever ends a connection must record its reason before the close. A reset is often noticed by a
 * write, not a read (epoll flushes first when a socket reports an error, and a write can hit the
 * reset before the read event is handled); with auto-close Netty closed the channel at once and
 * notified the failed write only after the close future's listeners had run, so the line said
 * {@code client_closed}. Now a failed write only shuts the output down, and the failure reaches
 * {@code RelaySession.writeFailed}/{@code failed} while the channel is open: on a plain side
 * through the relay's void-promise writes (fired into the pipeline), on a TLS side through {@code
 * TlsWriteWatch} under the SslHandler (which drops a void promise's failure), from the
 * end-of-output writes' listeners, and otherwise from the ChannelOutputShutdownEvent Netty fires
 * last. Deferring the access-log line instead would rest on the order of Netty's internal tasks and
 * would not help a TLS side, where no handler ever heard of the failed write.
 */
package io.tollgate.relay;
