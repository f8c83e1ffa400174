package io.tollgate.proxyprotocol;

import static io.tollgate.proxyprotocol.ProxyHeaderEncoder.Tlv;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.local.LocalAddress;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.netty.handler.codec.haproxy.HAProxySSLTLV;
import io.netty.handler.codec.haproxy.HAProxyTLV;
import io.tollgate.config.BackendProxyProtocol;
import io.tollgate.config.BackendProxyProtocol.Version;
import io.tollgate.connection.Connection;
import io.tollgate.connection.TlsSummary;
import io.tollgate.pki.CertificateAuthority;
import io.tollgate.pki.CertificateAuthority.KeyType;
import io.tollgate.pki.IssuedCertificate;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

/**
 * Headers compared byte for byte with ones written out by hand from haproxy's proxy-protocol.txt,
 * then read back with Netty's decoder as a second opinion.
 */
class ProxyHeaderEncoderTest {
  private static final String SIG = "0d0a0d0a000d0a515549540a";
  private static final InetSocketAddress SRC4 = addr("192.0.2.1", 56324);
  private static final InetSocketAddress DST4 = addr("198.51.100.2", 443);
  private static final InetSocketAddress SRC6 = addr("2001:db8::1", 56324);
  private static final InetSocketAddress DST6 = addr("::1", 443);

  private static InetSocketAddress addr(String ip, int port) {
    return new InetSocketAddress(
        io.netty.util.NetUtil.createInetAddressFromIpAddressString(ip), port);
  }

  private static byte[] hex(String s) {
    return HexFormat.of().parseHex(s.replace(" ", ""));
  }

  private static String ascii(byte[] b) {
    return new String(b, StandardCharsets.US_ASCII);
  }

  @Test
  void v1Tcp4IsTheSpecsTextLine() {
    assertThat(ascii(ProxyHeaderEncoder.v1(SRC4, DST4)))
        .isEqualTo("PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n");
  }

  @Test
  void v1Tcp6UsesCompressedAddressesWithoutScope() {
    assertThat(ascii(ProxyHeaderEncoder.v1(SRC6, DST6)))
        .isEqualTo("PROXY TCP6 2001:db8::1 ::1 56324 443\r\n");
  }

  @Test
  void v1MixedFamiliesMapTheIpv4AddressIntoIpv6() {
    assertThat(ascii(ProxyHeaderEncoder.v1(SRC4, DST6)))
        .isEqualTo("PROXY TCP6 ::ffff:192.0.2.1 ::1 56324 443\r\n");
  }

  @Test
  void v1WithoutAnIpSourceIsUnknown() {
    assertThat(ascii(ProxyHeaderEncoder.v1(new LocalAddress("x"), DST4)))
        .isEqualTo("PROXY UNKNOWN\r\n");
    assertThat(ascii(ProxyHeaderEncoder.v1(null, DST4))).isEqualTo("PROXY UNKNOWN\r\n");
  }

  @Test
  void v1LongestHeaderFitsTheSpecs107Bytes() {
    InetSocketAddress a = addr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535);
    assertThat(ProxyHeaderEncoder.v1(a, a)).hasSize(104);
  }

  @Test
  void v2Tcp4WithoutTlvs() {
    assertThat(ProxyHeaderEncoder.v2(SRC4, DST4, List.of(), false))
        .isEqualTo(
            hex(
                SIG
                    + "21 11 000c" // v2 PROXY, TCP over IPv4, 12 bytes follow
                    + "c0000201 c6336402" // 192.0.2.1, 198.51.100.2
                    + "dc04 01bb")); // 56324, 443
  }

  @Test
  void v2Tcp6WithAuthorityAndUniqueId() {
    byte[] header =
        ProxyHeaderEncoder.v2(
            SRC6,
            DST6,
            List.of(
                Tlv.ascii(ProxyHeaderEncoder.PP2_TYPE_AUTHORITY, "shop.test"),
                Tlv.ascii(ProxyHeaderEncoder.PP2_TYPE_UNIQUE_ID, "00000000000000ff")),
            false);
    assertThat(header)
        .isEqualTo(
            hex(
                SIG
                    + "21 21 0043" // TCP over IPv6, 36 + 12 + 19 = 67
                    + "20010db8000000000000000000000001" // 2001:db8::1
                    + "00000000000000000000000000000001" // ::1
                    + "dc04 01bb"
                    + "02 0009 73686f702e74657374" // AUTHORITY "shop.test"
                    + "05 0010 30303030303030303030303030306666")); // UNIQUE_ID
  }

  @Test
  void v2Crc32cCoversTheWholeHeaderWithTheChecksumZeroed() {
    byte[] header =
        ProxyHeaderEncoder.v2(
            SRC4, DST4, List.of(Tlv.ascii(ProxyHeaderEncoder.PP2_TYPE_AUTHORITY, "a.test")), true);
    // CRC32c (Castagnoli) computed separately over the header with "03 0004 00000000".
    assertThat(header)
        .isEqualTo(
            hex(
                SIG
                    + "21 11 001c c0000201 c6336402 dc04 01bb"
                    + "02 0006 612e74657374"
                    + "03 0004 875903f5"));
    byte[] zeroed = header.clone();
    java.util.Arrays.fill(zeroed, zeroed.length - 4, zeroed.length, (byte) 0);
    assertThat(bitwiseCrc32c(zeroed)).isEqualTo(0x875903f5L);
  }

  @Test
  void referenceCrc32cMatchesTheKnownCheckValue() {
    assertThat(bitwiseCrc32c("123456789".getBytes(StandardCharsets.US_ASCII)))
        .isEqualTo(0xE3069283L);
    CRC32C jdk = new CRC32C();
    jdk.update("123456789".getBytes(StandardCharsets.US_ASCII));
    assertThat(jdk.getValue()).isEqualTo(0xE3069283L);
  }

  /** Bit by bit, reflected polynomial 0x82F63B78: independent of java.util.zip.CRC32C. */
  private static long bitwiseCrc32c(byte[] data) {
    int crc = 0xFFFFFFFF;
    for (byte b : data) {
      crc ^= b & 0xFF;
      for (int i = 0; i < 8; i++) {
        crc = (crc & 1) != 0 ? (crc >>> 1) ^ 0x82F63B78 : crc >>> 1;
      }
    }
    return ~crc & 0xFFFFFFFFL;
  }

  @Test
  void v2WithoutAnIpSourceIsAfUnspecAndKeepsItsTlvs() {
    assertThat(
            ProxyHeaderEncoder.v2(
                new LocalAddress("x"),
                DST4,
                List.of(Tlv.ascii(ProxyHeaderEncoder.PP2_TYPE_UNIQUE_ID, "1")),
                false))
        .isEqualTo(hex(SIG + "21 00 0004 05 0001 31"));
  }

  @Test
  void v2LocalIsSixteenBytes() {
    assertThat(ProxyHeaderEncoder.V2_LOCAL).isEqualTo(hex(SIG + "20 00 0000"));
    assertThat(ascii(ProxyHeaderEncoder.V1_UNKNOWN)).isEqualTo("PROXY UNKNOWN\r\n");
  }

  @Test
  void v2MixedFamiliesMapTheIpv4AddressIntoIpv6() {
    assertThat(ProxyHeaderEncoder.v2(SRC4, DST6, List.of(), false))
        .isEqualTo(
            hex(
                SIG
                    + "21 21 0024"
                    + "00000000000000000000ffffc0000201"
                    + "00000000000000000000000000000001"
                    + "dc04 01bb"));
  }

  @Test
  void sslTlvWithAVerifiedClientCertificate() {
    Tlv ssl =
        ProxyHeaderEncoder.ssl(
            0x07,
            0,
            List.of(
                Tlv.ascii(ProxyHeaderEncoder.PP2_SUBTYPE_SSL_VERSION, "TLSv1.3"),
                Tlv.ascii(ProxyHeaderEncoder.PP2_SUBTYPE_SSL_CN, "alice")));
    assertThat(ssl.type()).isEqualTo(0x20);
    assertThat(ssl.value())
        .isEqualTo(hex("07 00000000" + "21 0007 544c5376312e33" + "22 0005 616c696365"));
  }

  @Test
  void connectionHeaderCarriesSniAlpnIdAndTheSslTlvOfAnOffloadedSession() {
    CertificateAuthority ca = CertificateAuthority.create("PP Test CA", KeyType.EC_P256);
    IssuedCertificate server = ca.issue(KeyType.RSA_2048, "shop.test");
    IssuedCertificate client = ca.issue(KeyType.EC_P256, "alice");
    Connection conn = new Connection("00000000000000ff", "main", SRC4, 0);
    conn.helloParsed("shop.test", List.of("h2"), 1);
    conn.tlsEstablished(
        new TlsSummary(
            "TLSv1.2",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "h2",
            client.certificate().getSubjectX500Principal().getName(),
            client.certificate(),
            server.certificate()));
    BackendProxyProtocol all = new BackendProxyProtocol(Version.V2, true, true, true, true, false);

    byte[] header = BackendProxyHeader.of(all, conn, DST4);

    String ssl =
        "07 00000000"
            + "21 0007 "
            + hexOf("TLSv1.2")
            + "22 0005 "
            + hexOf("alice")
            + "23 001b "
            + hexOf("ECDHE-RSA-AES128-GCM-SHA256")
            + "24 0011 "
            + hexOf("ecdsa-with-SHA256") // the (EC) CA signed Tollgate's certificate
            + "25 0007 "
            + hexOf("RSA2048");
    int sslLength = hex(ssl).length;
    String tlvs =
        "01 0002 "
            + hexOf("h2")
            + "02 0009 "
            + hexOf("shop.test")
            + "05 0010 "
            + hexOf("00000000000000ff")
            + "20 "
            + String.format("%04x", sslLength)
            + ssl;
    int length = 12 + hex(tlvs).length;
    assertThat(HexFormat.of().formatHex(header))
        .isEqualTo(
            HexFormat.of()
                .formatHex(
                    hex(
                        SIG
                            + "21 11 "
                            + String.format("%04x", length)
                            + "c0000201 c6336402 dc04 01bb"
                            + tlvs)));
  }

  @Test
  void passthroughConnectionsHaveNoAlpnOrSslTlvAndSwitchesTurnTlvsOff() {
    Connection conn = new Connection("0a", "main", SRC4, 0);
    conn.helloParsed("pass.test", List.of("h2"), 1);
    BackendProxyProtocol all = new BackendProxyProtocol(Version.V2, true, true, true, true, false);
    assertThat(BackendProxyHeader.of(all, conn, DST4))
        .isEqualTo(
            hex(
                SIG
                    + "21 11 001d c0000201 c6336402 dc04 01bb" // 12 + 12 + 5 = 29
                    + "02 0009 "
                    + hexOf("pass.test")
                    + "05 0002 "
                    + hexOf("0a")));
    BackendProxyProtocol none =
        new BackendProxyProtocol(Version.V2, false, false, false, false, false);
    assertThat(BackendProxyHeader.of(none, conn, DST4))
        .isEqualTo(ProxyHeaderEncoder.v2(SRC4, DST4, List.of(), false));
    assertThat(BackendProxyHeader.of(all.withVersion(Version.OFF), conn, DST4)).isNull();
    assertThat(ascii(BackendProxyHeader.of(all.withVersion(Version.V1), conn, DST4)))
        .isEqualTo("PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n");
  }

  @Test
  void sslTlvWithoutClientCertificateSaysNotVerified() {
    Tlv ssl =
        BackendProxyHeader.ssl(
            new TlsSummary("TLSv1.3", "TLS_AES_128_GCM_SHA256", null, null, null, null));
    assertThat(ssl.value())
        .isEqualTo(
            hex(
                "01 00000001"
                    + "21 0007 "
                    + hexOf("TLSv1.3")
                    + "23 0016 "
                    + hexOf("TLS_AES_128_GCM_SHA256")));
  }

  @Test
  void nettysDecoderReadsBackAddressesAndEveryTlv() {
    CertificateAuthority ca = CertificateAuthority.create("PP Test CA", KeyType.EC_P256);
    IssuedCertificate server = ca.issue(KeyType.EC_P256, "shop.test");
    Connection conn = new Connection("00000000000000ff", "main", SRC6, 0);
    conn.helloParsed("shop.test", List.of(), 1);
    conn.tlsEstablished(
        new TlsSummary(
            "TLSv1.3", "TLS_AES_256_GCM_SHA384", "http/1.1", null, null, server.certificate()));
    byte[] header =
        BackendProxyHeader.of(
            new BackendProxyProtocol(Version.V2, true, true, true, true, true), conn, DST6);

    EmbeddedChannel ch = new EmbeddedChannel(new HAProxyMessageDecoder());
    ch.writeInbound(Unpooled.wrappedBuffer(header));
    HAProxyMessage msg = ch.readInbound();
    try {
      assertThat(msg.command()).isEqualTo(HAProxyCommand.PROXY);
      assertThat(msg.proxiedProtocol()).isEqualTo(HAProxyProxiedProtocol.TCP6);
      assertThat(msg.sourceAddress()).isEqualTo("2001:db8:0:0:0:0:0:1");
      assertThat(msg.sourcePort()).isEqualTo(56324);
      assertThat(msg.destinationPort()).isEqualTo(443);
      // Netty lists the SSL TLV's sub-TLVs right after it.
      assertThat(msg.tlvs())
          .extracting(HAProxyTLV::typeByteValue)
          .containsExactly(
              (byte) 0x01,
              (byte) 0x02,
              (byte) 0x05,
              (byte) 0x20,
              (byte) 0x21,
              (byte) 0x23,
              (byte) 0x24,
              (byte) 0x25,
              (byte) 0x03);
      assertThat(msg.tlvs().get(0).content().toString(StandardCharsets.US_ASCII))
          .isEqualTo("http/1.1");
      HAProxySSLTLV ssl = (HAProxySSLTLV) msg.tlvs().get(3);
      assertThat(ssl.isPP2ClientSSL()).isTrue();
      assertThat(ssl.isPP2ClientCertConn()).isFalse();
      assertThat(ssl.verify()).isEqualTo(1);
      assertThat(ssl.encapsulatedTLVs())
          .extracting(HAProxyTLV::typeByteValue)
          .containsExactly((byte) 0x21, (byte) 0x23, (byte) 0x24, (byte) 0x25);
      assertThat(ssl.encapsulatedTLVs().get(2).content().toString(StandardCharsets.US_ASCII))
          .isEqualTo("ecdsa-with-SHA256");
      assertThat(ssl.encapsulatedTLVs().get(3).content().toString(StandardCharsets.US_ASCII))
          .isEqualTo("EC256");
    } finally {
      msg.release();
      ch.finishAndReleaseAll();
    }
  }

  private static String hexOf(String s) {
    return HexFormat.of().formatHex(s.getBytes(StandardCharsets.US_ASCII));
  }
}
