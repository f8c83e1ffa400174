/**
 * The runtime view of one configuration: {@link io.tollgate.snapshot.Snapshot} resolves servers,
 * reads certificates, builds pools, routes and TLS contexts off the event loops, and is swapped in
 * whole behind one volatile reference. Every connection reads exactly one snapshot.
 */
package io.tollgate.snapshot;
