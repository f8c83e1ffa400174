package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.AfterAll;

/**
 * {@link SessionIsolationTest} with the ClientHello steps on {@code io.handshake-threads}: a
 * session or ticket from one route is still never resumed on another, and a client certificate one
 * route's CA accepted opens no other route, when the step that reads the offered session runs on a
 * shared thread.
 */
class HandshakeThreadsSessionIsolationTest extends SessionIsolationTest
    implements SessionIsolationTest.WithHandshakeThreads {
  @AfterAll
  static void theClientHellosRanOnTheHandshakeThread() {
    assertThat(tollgate().tollgate().handshakeThreadSteps()).as("steps off the loops").isPositive();
  }
}
