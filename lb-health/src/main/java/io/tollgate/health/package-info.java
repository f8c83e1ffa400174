/**
 * Health of backend servers: active probes, rise/fall hysteresis, passive ejection and the
 * per-server state pools read on every new connection.
 *
 * <p>{@link io.tollgate.health.HealthChecker} owns the probing event loop and the states, keyed by
 * pool and server address so they survive a reload; a {@link io.tollgate.health.Monitor} per server
 * schedules its probes and applies rise/fall to its {@link io.tollgate.health.ServerState}
 * (up/down, drain, active connections, passive failures; read lock-free by the data path). A {@link
 * io.tollgate.health.Probe} is one check, the seam between the two: {@link
 * io.tollgate.health.ServerProbe} runs it over the network (connect, TLS handshake, timeout,
 * close), {@link io.tollgate.health.HttpCheck} judges an http/https response, {@link
 * io.tollgate.health.ProbeFailures} words a failure from lb-net's {@code FailureKind} (the
 * classifier the data path uses too), {@link io.tollgate.health.ProbeProxyHeader} is the PROXY
 * header a probe sends first. lb-core depends on this module, never the reverse.
 */
package io.tollgate.health;
