/**
 * Live upgrade: a running Tollgate starts its successor, hands it the listening sockets over a Unix
 * domain socket ({@link io.tollgate.upgrade.Upgrader} on the old side, {@link
 * io.tollgate.upgrade.Takeover} on the new one), and stops accepting only once the successor
 * accepts. Epoll only: file descriptors cross the Unix socket as {@code SCM_RIGHTS} messages.
 */
package io.tollgate.upgrade;
