package io.tollgate.connection;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.util.List;
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

  @Test
  void debugCloseLineEscapesWhatTheClientControls() {
    Connection c = connection();
    c.helloParsed("a.test", List.of("h2", "x\r\nFAKE conn=2 reason=ok"), 3, 1);
    c.tlsEstablished(
        new TlsSummary(
            "TLSv1.3",
            "TLS_AES_128_GCM_SHA256",
            "h2",
            "CN=evil\u001b[2J\r\nline,O=\u2028x\u0085",
            null,
            null));
    c.closeReason(CloseReason.HANDSHAKE_FAILED, "bad\nthing\u007f" + "y".repeat(2000));

    String line = c.summary(5_000_000);

    assertThat(line).doesNotContain("\r", "\n", "\u001b", "\u007f", "\u0085", "\u2028");
    assertThat(line)
        .contains("alpn=h2,x\\x0d\\x0aFAKE conn=2 reason=ok,+3 more")
        .contains("client_cert=\"CN=evil\\x1b[2J\\x0d\\x0aline,O=\\u2028x\\x85\"")
        .contains("(bad\\x0athing\\x7fyyy")
        .contains("...(2010 chars))");
    assertThat(line.length()).isLessThan(1000);
  }
}
