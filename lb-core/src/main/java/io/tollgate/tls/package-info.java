/**
 * TLS termination material: certificates and keys read and checked at load, the certificate
 * store for {@code certificate = auto}, session-ticket keys, and the Netty {@code SslContext}s
 * (BoringSSL through netty-tcnative, JDK fallback) that offload and reencrypt routes use.
 */
package io.tollgate.tls;
