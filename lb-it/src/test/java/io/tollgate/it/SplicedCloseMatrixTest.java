package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.epoll.Epoll;
import org.junit.jupiter.api.AfterAll;

/**
 * The passthrough half of {@link CloseMatrixTest} with {@code io.splice = true}: every way a
 * connection can end (data then FIN, half-close, reset, the client leaving first, curl's
 * close-delimited responses) must come out the same, byte for byte, when the kernel moves the
 * bytes.
 */
class SplicedCloseMatrixTest extends CloseMatrixTest {
  @AfterAll
  static void theBytesWereSpliced() {
    if (Epoll.isAvailable()) {
      assertThat(tollgate.metrics().splicedBytes()).as("bytes moved by splice").isPositive();
    }
  }
}
