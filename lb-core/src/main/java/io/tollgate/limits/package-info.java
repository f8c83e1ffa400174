/**
 * Protection of the process and of tenants from each other: connection limits (global, per
 * listener, per route, per client address, new connections per second per client address), per
 * route admission of TLS handshakes ({@link io.tollgate.limits.HandshakeAdmission}) and the pause
 * in accepting when accept fails (too many open files). Over a limit a connection is closed at once
 * with a {@code limit_*} (or {@code handshake_*_limited}) close reason, so it is counted and
 * access-logged like any other.
 */
package io.tollgate.limits;
