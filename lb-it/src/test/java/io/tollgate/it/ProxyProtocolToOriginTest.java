package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.tollgate.pki.CertificateAuthority;
import io.tollgate.pki.CertificateAuthority.KeyType;
import io.tollgate.pki.IssuedCertificate;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Pools with proxy-protocol: origins that decode the header with Netty's HAProxyMessageDecoder see
 * the client's address and port, the listener's address as destination, and the TLVs, in
 * passthrough, offload and reencrypt, from IPv4 and IPv6 loopback clients.
 */
@Timeout(60)
class ProxyProtocolToOriginTest {
  @TempDir static Path dir;
  private static CertificateAuthority ca;
  private static CertificateAuthority clientCa;
  private static ProxyOrigin pass;
  private static ProxyOrigin off;
  private static ProxyOrigin re;
  private static ProxyOrigin v1;
  private static TollgateFixture tollgate;

  @BeforeAll
  static void start() throws Exception {
    ca = CertificateAuthority.create("Tollgate PROXY IT CA", KeyType.EC_P256);
    ca.writeCertificatePem(dir.resolve("ca.pem"));
    clientCa = CertificateAuthority.create("Tollgate PROXY IT client CA", KeyType.EC_P256);
    clientCa.writeCertificatePem(dir.resolve("clients-ca.pem"));
    ca.issue(KeyType.RSA_2048, "off.test", "re.test", "v1.test", "mtls.test")
        .writePem(dir, "front");
    IssuedCertificate passCert = ca.issue(KeyType.EC_P256, "pass.test");
    IssuedCertificate originCert = ca.issue(KeyType.EC_P256, "origin.internal");
    pass = ProxyOrigin.start("pass-origin", passCert);
    off = ProxyOrigin.start("off-origin", null);
    re = ProxyOrigin.start("re-origin", originCert);
    v1 = ProxyOrigin.start("v1-origin", null);
    tollgate =
        TollgateFixture.startIn(
            dir,
            """
        [ { name = main, address = "127.0.0.1:0" }, { name = six, address = "[::1]:0" } ]""",
            String.format(
                """
        certificates { trusted-roots = "ca.pem" }
        routes = [
          { hosts = ["pass.test"], mode = passthrough, pool = pass }
          { hosts = ["off.test"], mode = offload, pool = off, alpn = ["h2", "http/1.1"],
            certificate { chain = "front.pem", key = "front.key" } }
          { hosts = ["mtls.test"], mode = offload, pool = off,
            certificate { chain = "front.pem", key = "front.key" },
            client-auth { mode = require, ca = "clients-ca.pem" } }
          { hosts = ["re.test"], mode = reencrypt, pool = re, alpn = ["http/1.1"],
            certificate { chain = "front.pem", key = "front.key" } }
          { hosts = ["v1.test"], mode = offload, pool = v1,
            certificate { chain = "front.pem", key = "front.key" } }
        ]
        pools {
          pass { servers = ["127.0.0.1:%d"], proxy-protocol = v2,
                 proxy-protocol-tlvs { crc32c = true } }
          off { servers = ["127.0.0.1:%d"], proxy-protocol = v2 }
          re { servers = ["127.0.0.1:%d"], proxy-protocol = v2,
               tls { ca = "ca.pem", server-name = origin.internal } }
          v1 { servers = ["127.0.0.1:%d"], proxy-protocol = v1 }
        }
        """,
                pass.port(), off.port(), re.port(), v1.port()));
  }

  @AfterAll
  static void stop() {
    if (tollgate != null) {
      tollgate.close();
    }
    for (ProxyOrigin o : new ProxyOrigin[] {pass, off, re, v1}) {
      if (o != null) {
        o.close();
      }
    }
  }

  /** The Tollgate listener a client on that loopback uses. */
  private static InetSocketAddress front(String loopback) {
    return tollgate.address(loopback.equals("::1") ? "six" : "main");
  }

  private static SSLSocket connect(String loopback, String sni, SSLContext context, String... alpn)
      throws Exception {
    InetSocketAddress front = front(loopback);
    Socket plain = new Socket();
    plain.connect(new InetSocketAddress(InetAddress.getByName(loopback), front.getPort()), 10_000);
    plain.setSoTimeout(10_000);
    SSLSocket s =
        (SSLSocket) context.getSocketFactory().createSocket(plain, sni, front.getPort(), true);
    SSLParameters p = s.getSSLParameters();
    p.setServerNames(List.of(new SNIHostName(sni)));
    p.setEndpointIdentificationAlgorithm("HTTPS");
    if (alpn.length > 0) {
      p.setApplicationProtocols(alpn);
    }
    s.setSSLParameters(p);
    s.startHandshake();
    return s;
  }

  private static String firstLine(Socket s) throws Exception {
    return new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII))
        .readLine();
  }

  /** Source is the client socket, destination the listener, over the client's IP family. */
  private static void assertAddresses(ProxyOrigin.Seen seen, Socket client, String loopback)
      throws Exception {
    assertThat(seen.command()).isEqualTo(HAProxyCommand.PROXY);
    assertThat(seen.protocol())
        .isEqualTo(
            loopback.equals("::1") ? HAProxyProxiedProtocol.TCP6 : HAProxyProxiedProtocol.TCP4);
    assertThat(InetAddress.getByName(seen.sourceAddress())).isEqualTo(client.getLocalAddress());
    assertThat(seen.sourcePort()).isEqualTo(client.getLocalPort());
    assertThat(InetAddress.getByName(seen.destinationAddress()))
        .isEqualTo(InetAddress.getByName(loopback));
    assertThat(seen.destinationPort()).isEqualTo(front(loopback).getPort());
  }

  @ParameterizedTest
  @ValueSource(strings = {"127.0.0.1", "::1"})
  void passthroughOriginSeesTheClientBeforeTheReplayedHello(String loopback) throws Exception {
    pass.clear();
    try (SSLSocket s = connect(loopback, "pass.test", ca.clientContext())) {
      assertThat(firstLine(s)).isEqualTo("pass-origin"); // TLS with the origin itself
      ProxyOrigin.Seen seen = pass.next();
      assertAddresses(seen, s, loopback);
      // No ALPN and no SSL TLV: Tollgate negotiated nothing; CRC32C checked by the decoder's
      // absence of complaint and present as configured.
      assertThat(seen.tlvs()).containsOnlyKeys(0x02, 0x05, 0x03);
      assertThat(seen.tlvs().get(0x02)).isEqualTo("pass.test");
      assertThat(seen.tlvs().get(0x05)).matches("[0-9a-f]{16}");
      assertThat(seen.sslClient()).isNull();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"127.0.0.1", "::1"})
  void offloadOriginSeesTheNegotiatedAlpnAndTheSslTlv(String loopback) throws Exception {
    off.clear();
    try (SSLSocket s = connect(loopback, "off.test", ca.clientContext(), "h2")) {
      assertThat(s.getApplicationProtocol()).isEqualTo("h2");
      assertThat(firstLine(s)).isEqualTo("off-origin");
      ProxyOrigin.Seen seen = off.next();
      assertAddresses(seen, s, loopback);
      assertThat(seen.tlvs()).containsOnlyKeys(0x01, 0x02, 0x05, 0x20);
      assertThat(seen.tlvs().get(0x01)).isEqualTo("h2");
      assertThat(seen.tlvs().get(0x02)).isEqualTo("off.test");
      assertThat(seen.sslClient()).isEqualTo(0x01); // PP2_CLIENT_SSL, no client certificate
      assertThat(seen.sslVerify()).isNotZero();
      assertThat(seen.ssl()).containsOnlyKeys(0x21, 0x23, 0x24, 0x25);
      assertThat(seen.ssl().get(0x21)).isEqualTo(s.getSession().getProtocol());
      // TLS 1.3 here: OpenSSL and IANA name its suites alike (TLS 1.2: see the encoder test).
      assertThat(s.getSession().getProtocol()).isEqualTo("TLSv1.3");
      assertThat(seen.ssl().get(0x23)).isEqualTo(s.getSession().getCipherSuite());
      assertThat(seen.ssl().get(0x24)).isEqualTo("ecdsa-with-SHA256"); // the CA signs with EC
      assertThat(seen.ssl().get(0x25)).isEqualTo("RSA2048");
    }
  }

  @Test
  void offloadWithAVerifiedClientCertificateSendsItsCommonName() throws Exception {
    off.clear();
    IssuedCertificate alice = clientCa.issue(KeyType.EC_P256, "alice.client");
    SSLContext context = SSLContext.getInstance("TLS");
    java.security.KeyStore ks = java.security.KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    ks.setKeyEntry(
        "alice",
        alice.key(),
        new char[0],
        alice.chain().toArray(new java.security.cert.Certificate[0]));
    javax.net.ssl.KeyManagerFactory kmf =
        javax.net.ssl.KeyManagerFactory.getInstance(
            javax.net.ssl.KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(ks, new char[0]);
    context.init(kmf.getKeyManagers(), ca.trustManagers().getTrustManagers(), null);
    try (SSLSocket s = connect("127.0.0.1", "mtls.test", context)) {
      assertThat(firstLine(s)).isEqualTo("off-origin");
      ProxyOrigin.Seen seen = off.next();
      assertThat(seen.sslClient()).isEqualTo(0x07); // SSL | CERT_CONN | CERT_SESS
      assertThat(seen.sslVerify()).isZero();
      assertThat(seen.ssl().get(0x22)).isEqualTo("alice.client");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"127.0.0.1", "::1"})
  void reencryptOriginGetsTheHeaderBeforeItsOwnHandshake(String loopback) throws Exception {
    re.clear();
    try (SSLSocket s = connect(loopback, "re.test", ca.clientContext(), "http/1.1")) {
      assertThat(firstLine(s)).isEqualTo("re-origin"); // TLS to the origin after the header
      ProxyOrigin.Seen seen = re.next();
      assertAddresses(seen, s, loopback);
      assertThat(seen.tlvs()).containsOnlyKeys(0x01, 0x02, 0x05, 0x20);
      assertThat(seen.tlvs().get(0x01)).isEqualTo("http/1.1");
      assertThat(seen.tlvs().get(0x02)).isEqualTo("re.test");
      assertThat(seen.sslClient()).isEqualTo(0x01);
      assertThat(seen.ssl().get(0x21)).isEqualTo(s.getSession().getProtocol());
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"127.0.0.1", "::1"})
  void v1PoolsSendTheTextHeader(String loopback) throws Exception {
    v1.clear();
    try (SSLSocket s = connect(loopback, "v1.test", ca.clientContext())) {
      assertThat(firstLine(s)).isEqualTo("v1-origin");
      ProxyOrigin.Seen seen = v1.next();
      assertAddresses(seen, s, loopback);
      assertThat(seen.tlvs()).isEmpty();
    }
  }
}
