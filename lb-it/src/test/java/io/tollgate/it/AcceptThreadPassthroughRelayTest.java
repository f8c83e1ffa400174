package io.tollgate.it;

/**
 * Every passthrough relay case with {@code io.accept = thread}: a thread of its own accepts and
 * hands each connection to a worker loop (the default accepts on a worker loop), and the relay must
 * behave the same.
 */
class AcceptThreadPassthroughRelayTest extends PassthroughRelayTest {
  @Override
  String relayConfig() {
    return "io { accept = thread, worker-threads = 2 }";
  }
}
