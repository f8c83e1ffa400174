/**
 * Backend pools: the servers behind a route, resolved addresses, and the balancing order a new
 * connection follows (smooth weighted round-robin, with bounded fail-over to the next server).
 */
package io.tollgate.pool;
