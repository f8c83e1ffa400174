/**
 * One client connection's record ({@link io.tollgate.connection.Connection}), the reasons a
 * connection can end ({@link io.tollgate.connection.CloseReason}), and what the stages of its
 * pipeline share: the handler names ({@link io.tollgate.connection.NettyPipeline}) and the base of
 * the decoders that must finish within a deadline ({@link io.tollgate.connection.DeadlineDecoder}).
 * Every stage of the data path writes into the record; the listener logs and counts it when the
 * client channel closes. A stage that will not serve a connection ends it with {@link
 * io.tollgate.connection.Refusal#refuse}: reason, then {@link io.tollgate.connection.TlsAlert} (if
 * any), then close.
 *
 * <h2>Lifecycle: every way a connection closes</h2>
 *
 * A connection is accepted by a listener, pinned to the snapshot in force at that moment ({@code
 * Connection.snapshot()}) and set up with that snapshot's listener settings; it ends on exactly one
 * of the paths below. The first reason recorded is the one logged and counted (a FIN reason gives
 * way to a later timeout, reset or error); a close with none recorded counts as {@code
 * client_closed}.
 *
 * <ol>
 *   <li><b>Refused by limits.</b> At accept ({@code TollgateChannelInitializer}): {@code
 *       limit_global}, {@code limit_listener}, {@code limit_source}, {@code limit_source_rate}; on
 *       a listener that reads PROXY headers the per-source ones apply once the header named the
 *       client ({@code ProxyHeaderReader}). Once routed ({@code HelloRouter}): {@code limit_route},
 *       and for offload/reencrypt routes, before their SslHandler exists, {@code
 *       handshake_rate_limited} and {@code handshake_concurrency_limited} ({@code
 *       HandshakeAdmission}), each with an {@code internal_error} alert. Closed at once.
 *   <li><b>PROXY header</b> ({@code ProxyHeaderReader}): {@code proxy_header_missing}, {@code
 *       proxy_untrusted}, {@code bad_proxy_header}; {@code hello_timeout} when the header is not
 *       whole in time; {@code client_closed} on EOF inside the header.
 *   <li><b>ClientHello</b> ({@code ClientHelloInspector}): {@code not_tls}, {@code bad_hello},
 *       {@code hello_too_large}, {@code hello_timeout}; {@code client_closed} on EOF before the
 *       hello is whole or an I/O error while reading it.
 *   <li><b>HTTP request</b> (http listeners; {@code HttpRequestInspector}, {@code
 *       HttpRequestRouter}): {@code http_bad_request}, {@code http_request_too_large}, {@code
 *       http_request_timeout}, {@code client_closed} before the head is whole; answered by Tollgate
 *       ({@link io.tollgate.connection.HttpAnswer}): {@code no_route} (421), {@code
 *       http_redirected}, {@code http_rejected}, {@code http_challenge_answered}; a relay to a
 *       route's http-pool then ends as passthrough does.
 *   <li><b>No route</b> ({@code HelloRouter}): {@code no_route} for a name no route takes (and the
 *       default route rejects) or an offload/reencrypt name without a certificate, with an {@code
 *       unrecognized_name} alert.
 *   <li><b>Client handshake</b> (offload, reencrypt; {@code PendingRelay}): {@code
 *       handshake_failed}, {@code handshake_timeout} ({@code timeouts.handshake}); {@code
 *       client_closed} when the client leaves during it.
 *   <li><b>No backend</b> ({@code PendingRelay}, from {@code Pool.select} and {@code
 *       BackendConnector}): {@code no_healthy_backend}, {@code pool_full}, {@code connect_failed}
 *       after every attempt, reencrypt's {@code backend_verify_failed} and {@code
 *       backend_handshake_failed}; an {@code internal_error} alert before a client handshake, a
 *       close_notify after one. {@code client_closed} when the client leaves while the backend
 *       connects; {@code client_reset}, {@code handshake_failed} or {@code tls_error} for an
 *       exception on the client meanwhile.
 *   <li><b>Relay end</b> ({@code RelaySession}): the first side to send FIN (or close_notify) gives
 *       {@code client_closed} or {@code backend_closed}; the connection closes once both directions
 *       ended.
 *   <li><b>Idle timeout</b> ({@code RelayHandler}): {@code idle_timeout}, no byte either way for
 *       {@code timeouts.idle}; both sides are closed.
 *   <li><b>Reset or exception</b> ({@code RelaySession.failed}): {@code client_reset}, {@code
 *       backend_reset}, {@code tls_error} after the handshake, {@code internal_error} for a bug
 *       (logged with its stack trace); the other side is reset (SO_LINGER 0). A reset noticed by a
 *       failed write, not a read, ends the same way ({@code RelaySession.writeFailed}): relayed
 *       channels run without Netty's auto-close, so the reason is recorded before the close the
 *       access log waits for (see {@link io.tollgate.relay}).
 *   <li><b>Shutdown drain</b> ({@code Tollgate.shutdown}, {@code
 *       io.tollgate.listener.OpenConnections}): {@code shutdown} for each connection still open
 *       when {@code timeouts.drain} ran out (or a second signal ended the drain).
 * </ol>
 */
package io.tollgate.connection;
