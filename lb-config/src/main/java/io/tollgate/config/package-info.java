/**
 * Tollgate's configuration model: the immutable records and enums every other module reads, and
 * {@link io.tollgate.config.ConfigLoader}, the one way to get them from a HOCON file or text.
 *
 * <p>{@link io.tollgate.config.TollgateConfig} is the root; one record per section hangs off it:
 * listeners ({@link io.tollgate.config.ListenerConfig}, with {@link
 * io.tollgate.config.UpstreamProxyProtocol} and {@link io.tollgate.config.Cidr}), io, timeouts,
 * limits, routes ({@link io.tollgate.config.RouteConfig}, {@link io.tollgate.config.RouteMode},
 * {@link io.tollgate.config.DefaultRoute} and, for offload/reencrypt, {@link
 * io.tollgate.config.ServerTlsConfig}), pools ({@link io.tollgate.config.PoolConfig} with its
 * servers, balancing, health check, passive ejection, backend TLS and PROXY protocol), certificates
 * and shared TLS settings, the access log, and ops (admin endpoint, watch). {@link
 * io.tollgate.config.HostPort} is the parsed {@code host:port} used throughout.
 *
 * <p>The invariant: <b>a {@code TollgateConfig} is always valid.</b> {@code ConfigLoader} returns
 * one only when binding found no error at all; otherwise it throws a {@link
 * io.tollgate.config.ConfigException} listing every {@link io.tollgate.config.ConfigError}
 * (file:line, key path, message) in one go. Holders may rely on every cross-reference (each route's
 * pool exists, no host name is claimed twice, every pool has servers) without checking again. The
 * records' own constructors guard only their shape (non-null parts, defensive copies, ranges);
 * cross-references are checked by the loader alone, so a value built by hand (in a test) is as
 * valid as its author made it.
 *
 * <p>How HOCON becomes these records (schema, binders, error messages) is {@code
 * io.tollgate.config.bind}'s business; nothing here depends on it except {@code ConfigLoader}.
 */
package io.tollgate.config;
