/**
 * Listeners: the transport (epoll or NIO), the per-connection setup of accepted channels, and the
 * hand-off from the ClientHello inspector to a route's handler.
 */
package io.tollgate.listener;
