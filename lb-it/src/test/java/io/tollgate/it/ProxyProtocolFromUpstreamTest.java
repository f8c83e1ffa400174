package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.connection.CloseReason;
import io.tollgate.pki.CertificateAuthority;
import io.tollgate.pki.CertificateAuthority.KeyType;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Listeners behind another balancer: the address in its PROXY header becomes the client that
 * Tollgate's own header names to the origin; untrusted, missing and broken headers are refused with
 * their own close reasons.
 */
@Timeout(60)
class ProxyProtocolFromUpstreamTest {
  @TempDir static Path dir;
  private static CertificateAuthority ca;
  private static ProxyOrigin origin;
  private static TollgateFixture tollgate;

  @BeforeAll
  static void start() throws Exception {
    ca = CertificateAuthority.create("Tollgate upstream PROXY IT CA", KeyType.EC_P256);
    ca.writeCertificatePem(dir.resolve("ca.pem"));
    ca.issue(KeyType.EC_P256, "off.test").writePem(dir, "front");
    origin = ProxyOrigin.start("origin", null);
    tollgate =
        TollgateFixture.startIn(
            dir,
            """
        [ { name = required, address = "127.0.0.1:0",
            proxy-protocol { mode = required, trusted = ["127.0.0.0/8", "::1/128"] } }
          { name = optional, address = "127.0.0.2:0",
            proxy-protocol { mode = optional, trusted = ["127.0.0.0/8"] } }
          { name = strict, address = "127.0.0.3:0",
            proxy-protocol { mode = optional, trusted = ["10.0.0.0/8"] } } ]""",
            String.format(
                """
        timeouts { client-hello = 2s }
        certificates { trusted-roots = "ca.pem" }
        routes = [
          { hosts = ["off.test"], mode = offload, pool = off,
            certificate { chain = "front.pem", key = "front.key" } }
        ]
        pools { off { servers = ["127.0.0.1:%d"], proxy-protocol = v2, balance = source-hash } }
        """,
                origin.port()));
  }

  @AfterAll
  static void stop() {
    if (tollgate != null) {
      tollgate.close();
    }
    if (origin != null) {
      origin.close();
    }
  }

  private static Socket plain(String listener) throws Exception {
    Socket s = new Socket();
    s.connect(tollgate.address(listener), 10_000);
    s.setSoTimeout(10_000);
    s.setTcpNoDelay(true);
    return s;
  }

  /** TLS over {@code plain} (after whatever was written on it), reading the origin's line. */
  private static String tlsGreeting(Socket plain) throws Exception {
    SSLSocket s =
        (SSLSocket)
            ca.clientContext()
                .getSocketFactory()
                .createSocket(plain, "off.test", plain.getPort(), true);
    SSLParameters p = s.getSSLParameters();
    p.setServerNames(List.of(new SNIHostName("off.test")));
    s.setSSLParameters(p);
    s.startHandshake();
    return new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII))
        .readLine();
  }

  private static void send(Socket s, String text) throws Exception {
    OutputStream out = s.getOutputStream();
    out.write(text.getBytes(StandardCharsets.US_ASCII));
    out.flush();
  }

  private static boolean closedByPeer(Socket s) {
    try {
      return s.getInputStream().read() < 0;
    } catch (java.io.IOException e) {
      return true; // reset
    }
  }

  @Test
  void theHeadersClientIsTheOneTollgateNamesToItsOrigin() throws Exception {
    origin.clear();
    try (Socket s = plain("required")) {
      send(s, "PROXY TCP4 203.0.113.9 198.51.100.1 4242 443\r\n");
      assertThat(tlsGreeting(s)).isEqualTo("origin");
      ProxyOrigin.Seen seen = origin.next();
      assertThat(seen.sourceAddress()).isEqualTo("203.0.113.9");
      assertThat(seen.sourcePort()).isEqualTo(4242);
      // Destination as the upstream said, not Tollgate's own socket.
      assertThat(seen.destinationAddress()).isEqualTo("198.51.100.1");
      assertThat(seen.destinationPort()).isEqualTo(443);
      // TLVs received from upstream are not forwarded; ours are.
      assertThat(seen.tlvs()).containsOnlyKeys(0x02, 0x05, 0x20);
    }
  }

  @Test
  void aV2HeaderSplitOverManySegmentsIsReassembled() throws Exception {
    origin.clear();
    byte[] header =
        io.tollgate.proxyprotocol.ProxyHeaderEncoder.v2(
            new InetSocketAddress("2001:db8::9", 5353),
            new InetSocketAddress("2001:db8::1", 443),
            List.of(io.tollgate.proxyprotocol.ProxyHeaderEncoder.Tlv.ascii(0x02, "upstream.test")),
            true);
    try (Socket s = plain("required")) {
      for (byte b : header) {
        s.getOutputStream().write(b);
        s.getOutputStream().flush();
        Thread.sleep(2);
      }
      assertThat(tlsGreeting(s)).isEqualTo("origin");
      ProxyOrigin.Seen seen = origin.next();
      assertThat(InetAddress.getByName(seen.sourceAddress()))
          .isEqualTo(InetAddress.getByName("2001:db8::9"));
      assertThat(seen.sourcePort()).isEqualTo(5353);
      assertThat(seen.tlvs().get(0x02)).isEqualTo("off.test"); // ours, not upstream's
    }
  }

  @Test
  void v2LocalKeepsTheSocketsOwnAddress() throws Exception {
    origin.clear();
    try (Socket s = plain("required")) {
      s.getOutputStream().write(io.tollgate.proxyprotocol.ProxyHeaderEncoder.V2_LOCAL);
      assertThat(tlsGreeting(s)).isEqualTo("origin");
      ProxyOrigin.Seen seen = origin.next();
      assertThat(seen.sourceAddress()).isEqualTo("127.0.0.1");
      assertThat(seen.sourcePort()).isEqualTo(s.getLocalPort());
    }
  }

  @Test
  void optionalModeServesPlainTlsAndHeadersAlike() throws Exception {
    origin.clear();
    try (Socket s = plain("optional")) {
      assertThat(tlsGreeting(s)).isEqualTo("origin");
      assertThat(origin.next().sourcePort()).isEqualTo(s.getLocalPort());
    }
    try (Socket s = plain("optional")) {
      send(s, "PROXY TCP4 192.0.2.50 192.0.2.1 1000 443\r\n");
      assertThat(tlsGreeting(s)).isEqualTo("origin");
      assertThat(origin.next().sourceAddress()).isEqualTo("192.0.2.50");
    }
  }

  @Test
  void refusals() throws Exception {
    long missing = tollgate.metrics().closedCount(CloseReason.PROXY_HEADER_MISSING);
    long untrusted = tollgate.metrics().closedCount(CloseReason.PROXY_UNTRUSTED);
    long bad = tollgate.metrics().closedCount(CloseReason.BAD_PROXY_HEADER);
    try (Socket s = plain("required")) { // TLS without a header
      s.getOutputStream().write(new byte[] {0x16, 0x03, 0x01, 0x00, 0x10});
      assertThat(closedByPeer(s)).isTrue();
    }
    tollgate.awaitClosed(CloseReason.PROXY_HEADER_MISSING, missing + 1);
    try (Socket s = plain("strict")) { // 127.0.0.1 is not in 10.0.0.0/8
      send(s, "PROXY TCP4 203.0.113.9 198.51.100.1 4242 443\r\n");
      assertThat(closedByPeer(s)).isTrue();
    }
    tollgate.awaitClosed(CloseReason.PROXY_UNTRUSTED, untrusted + 1);
    try (Socket s = plain("strict")) { // untrusted, but plain TLS is fine in optional mode
      assertThat(tlsGreeting(s)).isEqualTo("origin");
    }
    try (Socket s = plain("required")) {
      send(s, "PROXY TCP4 not-an-ip 198.51.100.1 4242 443\r\n");
      assertThat(closedByPeer(s)).isTrue();
    }
    tollgate.awaitClosed(CloseReason.BAD_PROXY_HEADER, bad + 1);
  }

  @Test
  void aStalledHeaderIsCutOffByTheHelloTimeout() throws Exception {
    long timeouts = tollgate.metrics().closedCount(CloseReason.HELLO_TIMEOUT);
    try (Socket s = plain("required")) {
      send(s, "PROXY TCP4 203.0");
      long started = System.nanoTime();
      assertThat(closedByPeer(s)).isTrue();
      assertThat((System.nanoTime() - started) / 1_000_000).isBetween(1000L, 8000L);
    }
    tollgate.awaitClosed(CloseReason.HELLO_TIMEOUT, timeouts + 1);
  }
}
