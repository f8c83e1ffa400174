/**
 * Routing: from the server name in a ClientHello to a {@link io.tollgate.route.Route} (mode and
 * pool), with exact, wildcard and default matches.
 */
package io.tollgate.route;
