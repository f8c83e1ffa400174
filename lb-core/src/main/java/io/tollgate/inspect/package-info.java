/**
 * ClientHello inspection: reads the TLS ClientHello of a new client connection without terminating
 * TLS or consuming a byte, so routing can use its SNI, ALPN and offered versions and the untouched
 * bytes can then be relayed to a backend (passthrough) or handed to an SslHandler (offload).
 *
 * <p>Owns {@link io.tollgate.inspect.ClientHelloParser} (pure parsing over a buffer, never throws
 * on hostile input), {@link io.tollgate.inspect.ClientHelloInspector} (the pipeline handler that
 * buffers, times out, reports once and steps aside), the result types {@link
 * io.tollgate.inspect.ClientHello} and {@link io.tollgate.inspect.ParseResult}, and the close
 * reasons in {@link io.tollgate.inspect.HelloFailure}. Routing decisions and what happens after the
 * hello belong to the callers.
 */
package io.tollgate.inspect;
