package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.connection.CloseReason;
import io.tollgate.pki.CertificateAuthority;
import io.tollgate.pki.CertificateAuthority.KeyType;
import io.tollgate.testkit.TlsTestClient;
import io.tollgate.testkit.TlsTestServer;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Bad input closes only the connection that sent it, with a distinct, counted reason; a healthy
 * connection on the same listener carries on.
 */
@Timeout(60)
class HelloRejectionTest {
  private static CertificateAuthority ca;
  private static TlsTestServer echo;
  private static TollgateFixture tollgate;

  @BeforeAll
  static void start() throws Exception {
    ca = CertificateAuthority.create("Tollgate IT CA", KeyType.EC_P256);
    echo = TlsTestServer.start(ca.issue(KeyType.EC_P256, "good.test"), TlsTestServer.echo());
    tollgate =
        TollgateFixture.start(
            String.format(
                """
        timeouts { client-hello = 400ms }
        limits { max-client-hello = 16k }
        routes = [ { hosts = ["good.test"], mode = passthrough, pool = good } ]
        pools { good { servers = ["127.0.0.1:%d"] } }
        """,
                echo.port()));
  }

  @AfterAll
  static void stop() {
    tollgate.close();
    echo.close();
  }

  /** Sends raw bytes and returns once Tollgate has closed the connection. */
  private static void sendAndExpectClose(byte[] bytes) throws Exception {
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), tollgate.port())) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write(bytes);
      out.flush();
      InputStream in = s.getInputStream();
      assertThat(in.read()).as("Tollgate closes without answering").isEqualTo(-1);
    }
  }

  private static byte[] bytes(int... values) {
    byte[] b = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      b[i] = (byte) values[i];
    }
    return b;
  }

  @Test
  void badInputClosesOnlyThatConnectionWithADistinctCountedReason() throws Exception {
    try (TlsTestClient.Connection healthy =
        TlsTestClient.connect(tollgate.port(), "good.test", ca)) {
      sendAndExpectClose(
          "GET / HTTP/1.1\r\nHost: good.test\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      tollgate.awaitClosed(CloseReason.NOT_TLS, 1);

      // A handshake record holding a ServerHello (type 2) where a ClientHello must be.
      sendAndExpectClose(bytes(0x16, 0x03, 0x01, 0x00, 0x04, 0x02, 0x00, 0x00, 0x00));
      tollgate.awaitClosed(CloseReason.BAD_HELLO, 1);

      // A ClientHello that declares 1 MiB: refused as soon as the header is read.
      sendAndExpectClose(bytes(0x16, 0x03, 0x01, 0x40, 0x00, 0x01, 0x10, 0x00, 0x00));
      tollgate.awaitClosed(CloseReason.HELLO_TOO_LARGE, 1);

      // Half a record header, then silence: closed by the 400 ms hello timeout.
      sendAndExpectClose(bytes(0x16, 0x03));
      tollgate.awaitClosed(CloseReason.HELLO_TIMEOUT, 1);

      // Meanwhile the healthy connection still relays both ways.
      OutputStream out = healthy.socket().getOutputStream();
      out.write("still here".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      byte[] echoed = healthy.socket().getInputStream().readNBytes(10);
      assertThat(new String(echoed, StandardCharsets.US_ASCII)).isEqualTo("still here");
    }
  }
}
