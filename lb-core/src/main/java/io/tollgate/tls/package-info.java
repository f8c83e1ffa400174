/**
 * TLS termination material: certificates and keys read and checked at load, the certificate store
 * for {@code certificate = auto}, session-ticket keys, and the Netty {@code SslContext}s (BoringSSL
 * through netty-tcnative, JDK fallback) that offload and reencrypt routes use.
 *
 * <p>Entry point: {@link io.tollgate.tls.TlsMaterial#build}, called off the event loops at load and
 * reload; it reports problems as {@code ConfigError}s and never throws for bad input. The data path
 * then asks {@link io.tollgate.tls.TlsMaterial#serverTls} for a route's {@link
 * io.tollgate.tls.ServerTls} and {@link io.tollgate.tls.TlsMaterial#backendTls} for a pool's {@link
 * io.tollgate.tls.BackendTls}; making a handler is a map look-up plus Netty's {@code newHandler}.
 *
 * <p>Pieces: {@link io.tollgate.tls.PemFiles} (PEM reading), {@link io.tollgate.tls.CertifiedKey}
 * and {@link io.tollgate.tls.CertificateChecks} (a checked chain and key), {@link
 * io.tollgate.tls.CertificateStore} (the directory store), {@link io.tollgate.tls.TicketKeys}
 * (ticket-key file format), {@link io.tollgate.tls.TlsProvider} (BoringSSL or JDK), {@code
 * ServerContexts}/{@code BackendContexts} (context building). Why a handshake failed is {@link
 * io.tollgate.net.FailureKind}'s to say (lb-net), for the data path and health checks alike.
 */
package io.tollgate.tls;
