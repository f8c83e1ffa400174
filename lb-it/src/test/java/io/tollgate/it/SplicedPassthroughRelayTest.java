package io.tollgate.it;

import io.netty.channel.epoll.Epoll;

/**
 * Every passthrough relay case with {@code io.splice = true}: on epoll the bytes move socket ->
 * pipe -> socket in the kernel, and half-close, resets, backpressure, idle timeouts and byte counts
 * must come out exactly as without it. On a machine without epoll the cases run unspliced.
 */
class SplicedPassthroughRelayTest extends PassthroughRelayTest {
  @Override
  String relayConfig() {
    return "io { splice = true }";
  }

  @Override
  boolean splices() {
    return Epoll.isAvailable();
  }
}
