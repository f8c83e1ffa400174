package io.tollgate.connection;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

class ConnectionTest {
  private static Connection connection() {
    return new Connection("1", "main", new InetSocketAddress("127.0.0.1", 1), 0);
  }

  @Test
  void theFirstReasonWinsOverItsConsequences() {
    Connection c = connection();
    c.closeReason(CloseReason.CONNECT_FAILED, "refused");
    c.closeReason(CloseReason.CLIENT_CLOSED, null);
    assertThat(c.reason()).isEqualTo(CloseReason.CONNECT_FAILED);
    assertThat(c.reasonDetail()).isEqualTo("refused");
  }

  @Test
  void aTimeoutOrResetThatEndsAHalfClosedConnectionReplacesTheFinReason() {
    Connection idle = connection();
    idle.closeReason(CloseReason.CLIENT_CLOSED, null);
    idle.closeReason(CloseReason.IDLE_TIMEOUT, null);
    idle.closeReason(CloseReason.BACKEND_CLOSED, null);
    assertThat(idle.reason()).isEqualTo(CloseReason.IDLE_TIMEOUT);

    Connection reset = connection();
    reset.closeReason(CloseReason.BACKEND_CLOSED, null);
    reset.closeReason(CloseReason.CLIENT_RESET, "Connection reset by peer");
    assertThat(reset.reason()).isEqualTo(CloseReason.CLIENT_RESET);
  }

  @Test
  void withoutAnyRecordedReasonTheClientClosed() {
    assertThat(connection().reason()).isEqualTo(CloseReason.CLIENT_CLOSED);
  }
}
