package io.tollgate.listener;

import io.tollgate.config.IoConfig;
import org.junit.jupiter.api.condition.EnabledIf;

/**
 * {@link InputAfterFinTest} on io_uring: Netty's io_uring channels, told of a peer's FIN (their
 * POLLRDHUP poll), read the socket to its end whatever the backpressure, as epoll's do; {@link
 * PollOutAfterFinIoUringHandler} keeps that completion from a marked socket's channel.
 */
@EnabledIf("io.netty.channel.uring.IoUring#isAvailable")
class IoUringInputAfterFinTest extends InputAfterFinTest {
  @Override
  IoConfig.Transport transport() {
    return IoConfig.Transport.IO_URING;
  }
}
