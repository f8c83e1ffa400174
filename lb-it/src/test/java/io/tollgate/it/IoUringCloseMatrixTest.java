package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.condition.EnabledIf;

/**
 * {@link CloseMatrixTest} on {@code io.transport = io_uring}: every mode, every way a connection
 * can end (data then FIN with and without close_notify, half-close, reset, the client leaving
 * first, curl's close-delimited answers) must come out as on epoll, byte for byte.
 */
@EnabledIf("io.netty.channel.uring.IoUring#isAvailable")
class IoUringCloseMatrixTest extends CloseMatrixTest {
  @AfterAll
  static void theConnectionsRanOnIoUring() {
    assertThat(tollgate.tollgate().transportName()).isEqualTo("io_uring");
  }
}
