package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.AfterAll;

/**
 * {@link CloseMatrixTest} with {@code io.handshake-threads = 1}: every terminated connection's
 * ClientHello step runs on a handshake thread, and every way a connection can end (data then FIN
 * with and without close_notify, half-close, reset, the client leaving first) must come out as when
 * the loop runs it, byte for byte.
 */
class HandshakeThreadsCloseMatrixTest extends CloseMatrixTest {
  @AfterAll
  static void theClientHellosRanOnTheHandshakeThread() {
    assertThat(tollgate.tollgate().handshakeThreadSteps()).as("steps off the loops").isPositive();
  }
}
