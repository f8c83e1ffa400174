/**
 * The PROXY protocol (haproxy's proxy-protocol.txt, versions 1 and 2): {@link
 * io.tollgate.proxyprotocol.ProxyHeaderEncoder} writes the header Tollgate sends first on every
 * backend connection of a pool with {@code proxy-protocol = v1 | v2} (and on its health checks);
 * {@link io.tollgate.proxyprotocol.ProxyHeaderReader} reads the header an upstream balancer sends
 * on a listener with {@code proxy-protocol.mode = optional | required}, before the ClientHello
 * inspector, and makes the address it carries the connection's client address.
 */
package io.tollgate.proxyprotocol;
