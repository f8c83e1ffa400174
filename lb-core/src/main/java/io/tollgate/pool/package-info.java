/**
 * Backend pools: the servers behind a route, resolved addresses, and the order a new connection
 * follows. Balancing (round-robin, least-conn, random-two, source-hash, sni-hash), slow start,
 * max-connections and drain live here; health (up/down, passive ejection) comes from lb-health's
 * {@link io.tollgate.health.ServerState}, which outlives a config snapshot.
 */
package io.tollgate.pool;
