/**
 * Backend pools: the servers behind a route, resolved addresses, and the order a new connection
 * follows. Balancing (round-robin, least-conn, random-two, source-hash, sni-hash), slow start,
 * max-connections and drain live here; health (up/down, passive ejection) comes from lb-health's
 * {@link io.tollgate.health.ServerState}, which outlives a config snapshot.
 *
 * <p>Each backend connect attempt holds a {@link io.tollgate.pool.Lease} from {@link
 * io.tollgate.pool.Pool#reserve}: the server's connection slot, given back exactly once (failed,
 * cancelled, or the connected backend channel closed), and the one way the data path reports to
 * passive ejection (connect failure, reset before the first byte, first byte).
 */
package io.tollgate.pool;
