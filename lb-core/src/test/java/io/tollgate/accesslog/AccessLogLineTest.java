package io.tollgate.accesslog;

import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.config.RouteMode;
import io.tollgate.connection.CloseReason;
import io.tollgate.connection.Connection;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The JSON line: field order, nulls, durations in ms, and escaping of untrusted text. */
class AccessLogLineTest {
  private static final Instant AT = Instant.parse("2025-06-01T12:00:03.120999Z");

  @Test
  void freshConnectionHasEveryFieldWithNullsForWhatIsUnknown() {
    Connection c =
        new Connection(
            "00000000000000ff", "main", new InetSocketAddress("203.0.113.7", 51334), 1_000_000);

    assertThat(AccessLogLine.format(c, 3_500_000, AT))
        .isEqualTo(
            "{\"time\":"
                + "\"2025-06-01T12:00:03.120Z\",\"id\":\"00000000000000ff\",\"listener\":\"main\","
                + "\"client\":\"203.0.113.7\",\"client_port\":51334,\"sni\":null,\"alpn_offered\":[],"
                + "\"alpn_offered_omitted\":0,\"route\":null,\"mode\":null,\"backend\":null,"
                + "\"tls_version\":null,\"tls_cipher\":null,"
                + "\"alpn\":null,\"client_cert\":null,\"bytes_from_client\":0,\"bytes_from_backend\":0,"
                + "\"hello_ms\":null,\"handshake_ms\":null,\"connect_ms\":null,\"duration_ms\":2.500,"
                + "\"reason\":\"client_closed\",\"detail\":null}");
  }

  @Test
  void routedConnectionHasRouteModeBackendAndTimings() {
    Connection c = new Connection("1", "main", new InetSocketAddress("::1", 443), 0);
    c.helloParsed("shop.test", List.of("h2", "http/1.1"), 412_345);
    c.routed("shop.test", RouteMode.OFFLOAD);
    c.handshakeEnded(3_387_345);
    c.connected("10.0.0.5:8080", 803_000);
    c.addFromClient(1874);
    c.addFromBackend(48213);
    c.closeReason(CloseReason.BACKEND_CLOSED, null);

    String line = AccessLogLine.format(c, 1_520_334_000L, AT);
    assertThat(line)
        .contains("\"client\":\"0:0:0:0:0:0:0:1\",\"client_port\":443")
        .contains("\"alpn_offered\":[\"h2\",\"http/1.1\"]")
        .contains("\"route\":\"shop.test\",\"mode\":\"offload\",\"backend\":\"10.0.0.5:8080\"")
        .contains(
            "\"hello_ms\":0.412,\"handshake_ms\":2.975,\"connect_ms\":0.803,"
                + "\"duration_ms\":1520.334,\"reason\":\"backend_closed\"");
  }

  @Test
  void timeHasMillisecondsEvenWhenThoseAreZero() {
    Connection c = new Connection("1", "main", new InetSocketAddress("127.0.0.1", 1), 0);

    assertThat(AccessLogLine.format(c, 0, Instant.parse("2025-06-01T12:00:03Z")))
        .startsWith("{\"time\":\"2025-06-01T12:00:03.000Z\",");
  }

  @Test
  void untrustedTextIsEscaped() {
    Connection c = new Connection("1", "main", new InetSocketAddress("127.0.0.1", 1), 0);
    c.closeReason(CloseReason.INTERNAL_ERROR, "bad \"thing\"\n\\ \u0001 end");

    assertThat(AccessLogLine.format(c, 0, AT))
        .contains("\"detail\":\"bad \\\"thing\\\"\\n\\\\ \\u0001 end\"")
        .doesNotContain("\n");
  }

  @Test
  void clientControlledFieldsAreCappedAndStayOnOneLine() {
    Connection c =
        new Connection(
            "00000000000000ff", "main", new InetSocketAddress("203.0.113.7", 51334), 1_000_000);
    c.helloParsed("a.test", List.of("h2", "x\\x0d\\x0a"), 4984, 2_000_000);
    c.closeReason(CloseReason.BAD_HELLO, "evil\r\n{\"forged\":1}\u001b[31m" + "z".repeat(5000));

    String line = AccessLogLine.format(c, 3_500_000, AT);

    assertThat(line).doesNotContain("\r", "\n", "\u001b");
    assertThat(line)
        .contains(
            "\"alpn_offered\":[\"h2\",\"x\\\\x0d\\\\x0a\"]," + "\"alpn_offered_omitted\":4984,");
    assertThat(line).contains("\"detail\":\"evil\\r\\n{\\\"forged\\\":1}\\u001b[31mzzz");
    assertThat(line.length()).isLessThan(1200);
    assertThat(line).contains("z...\"}");
  }
}
