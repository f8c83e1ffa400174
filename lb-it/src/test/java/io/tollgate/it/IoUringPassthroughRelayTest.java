package io.tollgate.it;

import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;

/**
 * Every passthrough relay case on {@code io.transport = io_uring}: large transfers, backpressure
 * against a stalled reader, half-close in both directions, resets, idle timeouts, max-lifetime and
 * failover must come out exactly as on epoll.
 */
@EnabledIf("io.netty.channel.uring.IoUring#isAvailable")
class IoUringPassthroughRelayTest extends PassthroughRelayTest {
  @Override
  String relayConfig() {
    return "io { transport = io_uring }";
  }

  @Override
  @Test
  @Disabled("the NIO transfer: PassthroughRelayTest runs it")
  void transfers256MiBEachWayOverNio() {}
}
