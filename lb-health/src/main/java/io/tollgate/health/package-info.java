/**
 * Health of backend servers: active probes, rise/fall hysteresis, passive ejection and the
 * per-server state pools read on every new connection.
 *
 * <p>Four small pieces: {@link io.tollgate.health.Probe} (one check of one server: tcp, tls,
 * http, https), {@link io.tollgate.health.Monitor} (schedules a server's probes and applies
 * rise/fall), {@link io.tollgate.health.ServerState} (up/down, drain, active connections,
 * passive failures; read lock-free by the data path) and {@link io.tollgate.health.HealthChecker}
 * (owns the probing event loop and the states, keyed by pool and server address so they survive
 * a reload). lb-core depends on this module, never the reverse.
 */
package io.tollgate.health;
