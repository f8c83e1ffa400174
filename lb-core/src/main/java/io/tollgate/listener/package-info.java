/**
 * Listeners: the bound set ({@link io.tollgate.listener.Listeners}: bind, the listener half of a
 * reload, close) and the connections they accepted ({@link io.tollgate.listener.OpenConnections},
 * for the shutdown drain), the transport (epoll, io_uring or NIO), the per-connection setup of
 * accepted channels with the settings of the snapshot they were accepted under, and the hand-off
 * from the ClientHello inspector to a route's handler.
 */
package io.tollgate.listener;
