package io.tollgate.inspect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.buffer.ByteBuf;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslProvider;
import io.tollgate.inspect.ParseResult.Done;
import io.tollgate.inspect.ParseResult.Failed;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ClientHelloParserTest {
  private static final int LIMIT = 64 * 1024;
  private static final byte[] TRAILER_BYTES = {23, 3, 3, 0, 1, 42};
  private final ClientHelloParser parser = new ClientHelloParser(LIMIT);

  // ---- real hellos -------------------------------------------------------------------------

  @Test
  void jdkTls13HelloYieldsSniAlpnAndVersions() {
    byte[] hello =
        TestHellos.real(
            SslProvider.JDK, "api.example.com", List.of("h2", "http/1.1"), "TLSv1.3", "TLSv1.2");

    ClientHello parsed = done(hello);

    assertThat(parsed.sni()).isEqualTo("api.example.com");
    assertThat(parsed.alpn()).containsExactly("h2", "http/1.1");
    assertThat(parsed.versions()).contains(ClientHello.TLS_1_3);
    assertThat(parsed.versions()).contains(ClientHello.TLS_1_3, ClientHello.TLS_1_2);
    assertThat(parsed.recordBytes()).isEqualTo(hello.length);
    assertThat(parsed.records()).isEqualTo(1);
  }

  @Test
  void commonAlpnOffersAreSharedNotCopiedPerConnection() {
    List<String> offer = List.of("h2", "http/1.1");
    ClientHello first = done(TestHellos.real(SslProvider.JDK, "a.example.com", offer, "TLSv1.3"));
    ClientHello second = done(TestHellos.real(SslProvider.JDK, "b.example.com", offer, "TLSv1.3"));
    ClientHello rare =
        done(TestHellos.real(SslProvider.JDK, "c.example.com", List.of("h2", "x-1"), "TLSv1.3"));

    assertThat(first.alpn()).containsExactly("h2", "http/1.1").isSameAs(second.alpn());
    assertThat(rare.alpn()).containsExactly("h2", "x-1");
  }

  @Test
  void boringSslTls13HelloYieldsSniAlpnAndVersions() {
    assumeTrue(OpenSsl.isAvailable(), "netty-tcnative BoringSSL not available");
    byte[] hello =
        TestHellos.real(
            SslProvider.OPENSSL,
            "api.example.com",
            List.of("h2", "http/1.1"),
            "TLSv1.3",
            "TLSv1.2");

    ClientHello parsed = done(hello);

    assertThat(parsed.sni()).isEqualTo("api.example.com");
    assertThat(parsed.alpn()).containsExactly("h2", "http/1.1");
    assertThat(parsed.versions()).containsExactly(ClientHello.TLS_1_3, ClientHello.TLS_1_2);
    assertThat(parsed.recordBytes()).isEqualTo(hello.length);
  }

  @Test
  void boringSslIsAvailableOnThisMachine() {
    // The passthrough tests lean on BoringSSL hellos; make a missing native library visible.
    assertThat(OpenSsl.isAvailable())
        .as("OpenSsl.unavailabilityCause: %s", OpenSsl.unavailabilityCause())
        .isTrue();
  }

  @Test
  void jdkClientForMixedCaseHostWithTrailingDotGivesNormalisedSni() {
    // The JDK drops the trailing dot itself (BoringSSL sends no SNI at all for such a host).
    byte[] hello = TestHellos.real(SslProvider.JDK, "Host.Example.", List.of(), "TLSv1.3");
    assertThat(done(hello).sni()).isEqualTo("host.example");
  }

  @ParameterizedTest
  @ValueSource(strings = {"JDK", "OPENSSL"})
  void tls12OnlyHelloDoesNotOfferTls13(SslProvider provider) {
    assumeTrue(provider == SslProvider.JDK || OpenSsl.isAvailable());
    byte[] hello = TestHellos.real(provider, "legacy.example.org", List.of(), "TLSv1.2");

    ClientHello parsed = done(hello);

    assertThat(parsed.sni()).isEqualTo("legacy.example.org");
    assertThat(parsed.alpn()).isEmpty();
    assertThat(parsed.versions()).doesNotContain(ClientHello.TLS_1_3);
    assertThat(parsed.versions()).containsExactly(ClientHello.TLS_1_2);
  }

  @ParameterizedTest
  @ValueSource(strings = {"JDK", "OPENSSL"})
  void largeHelloOver2KbParses(SslProvider provider) {
    assumeTrue(provider == SslProvider.JDK || OpenSsl.isAvailable());
    List<String> protocols = TestHellos.manyProtocols(200);
    byte[] hello = TestHellos.real(provider, "big.example.net", protocols, "TLSv1.3", "TLSv1.2");
    assertThat(hello.length).isGreaterThan(2048);

    ClientHello parsed = done(hello);

    assertThat(parsed.alpn()).isEqualTo(protocols.subList(0, ClientHello.MAX_ALPN_NAMES));
    assertThat(parsed.alpnOmitted()).isEqualTo(protocols.size() - ClientHello.MAX_ALPN_NAMES);
    assertThat(parsed.sni()).isEqualTo("big.example.net");
  }

  @ParameterizedTest
  @ValueSource(strings = {"JDK", "OPENSSL"})
  void helloOver16KbThatTheClientSplitsIntoSeveralRecordsParses(SslProvider provider) {
    assumeTrue(provider == SslProvider.JDK || OpenSsl.isAvailable());
    List<String> protocols = TestHellos.manyProtocols(1500);
    byte[] hello = TestHellos.real(provider, "huge.example.net", protocols, "TLSv1.3", "TLSv1.2");

    ClientHello parsed = done(hello);

    assertThat(parsed.records()).isEqualTo(TestHellos.countRecords(hello)).isGreaterThan(1);
    assertThat(parsed.recordBytes()).isEqualTo(hello.length);
    assertThat(parsed.alpn()).isEqualTo(protocols.subList(0, ClientHello.MAX_ALPN_NAMES));
    assertThat(parsed.alpnOmitted()).isEqualTo(protocols.size() - ClientHello.MAX_ALPN_NAMES);
  }

  @Test
  void everyStrictPrefixNeedsMoreAndTrailingBytesAreIgnored() {
    byte[] hello = TestHellos.real(SslProvider.JDK, "a.example", List.of("h2"), "TLSv1.3");
    for (int n = 0; n < hello.length; n++) {
      assertThat(parse(Arrays.copyOf(hello, n)))
          .as("prefix of %d bytes", n)
          .isSameAs(ParseResult.NeedMore.INSTANCE);
    }
    byte[] pipelined =
        TestHellos.concat(hello, "GET / HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII));
    ClientHello parsed = done(pipelined);
    assertThat(parsed.recordBytes()).isEqualTo(hello.length);
    assertThat(parsed.sni()).isEqualTo("a.example");
  }

  @Test
  void parseLeavesIndicesAndReferenceCountAlone() {
    byte[] hello = TestHellos.real(SslProvider.JDK, "a.example", List.of("h2"), "TLSv1.3");
    ByteBuf buf = TestHellos.buffer(TestHellos.concat(new byte[] {9, 9, 9}, hello, new byte[] {7}));
    try {
      buf.readerIndex(3);
      int writer = buf.writerIndex();

      ParseResult result = parser.parse(buf);

      assertThat(result).isInstanceOf(Done.class);
      assertThat(buf.readerIndex()).isEqualTo(3);
      assertThat(buf.writerIndex()).isEqualTo(writer);
      assertThat(buf.refCnt()).isEqualTo(1);
    } finally {
      buf.release();
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 7, 100, 512, 16384})
  void reframedIntoSmallRecordsGivesTheSameHello(int payload) {
    byte[] original =
        TestHellos.real(
            SslProvider.JDK, "shop.example", List.of("h2", "http/1.1"), "TLSv1.3", "TLSv1.2");
    byte[] message = TestHellos.handshakeMessage(original);
    byte[] records = TestHellos.reframe(message, payload);

    ClientHello parsed = done(records);

    ClientHello expected = done(original);
    assertThat(parsed.sni()).isEqualTo(expected.sni());
    assertThat(parsed.alpn()).isEqualTo(expected.alpn());
    assertThat(parsed.versions()).isEqualTo(expected.versions());
    assertThat(parsed.records()).isEqualTo((message.length + payload - 1) / payload);
    assertThat(parsed.recordBytes()).isEqualTo(records.length);
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 3, 100})
  void resumedWalkAgreesWithAFreshParseOnEveryPrefix(int payload) {
    byte[] message =
        TestHellos.handshakeMessage(
            TestHellos.real(SslProvider.JDK, "resume.example", List.of("h2"), "TLSv1.3"));
    byte[] records = TestHellos.concat(TestHellos.reframe(message, payload), TRAILER_BYTES);
    ClientHelloParser.Progress progress = new ClientHelloParser.Progress();
    for (int n = 0; n <= records.length; n++) {
      ByteBuf buf = TestHellos.buffer(Arrays.copyOf(records, n));
      try {
        ParseResult resumed = parser.parse(buf, progress);
        if (n % 17 == 0 || n > records.length - 10) { // a fresh parse of every prefix is slow
          assertThat(resumed).as("prefix of %d bytes", n).isEqualTo(parser.parse(buf));
        }
      } finally {
        buf.release();
      }
    }
  }

  // ---- not TLS -----------------------------------------------------------------------------

  @Test
  void plaintextHttpIsNotTlsFromTheFirstByte() {
    assertFailed(parse("G".getBytes(StandardCharsets.US_ASCII)), HelloFailure.NOT_TLS);
    Failed failed =
        assertFailed(
            parse("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII)),
            HelloFailure.NOT_TLS);
    assertThat(failed.detail()).contains("HTTP").contains("GET / HTTP/1.1\\x0d\\x0a");
  }

  @Test
  void sslV2CompatibleHelloIsNotTls() {
    Failed failed =
        assertFailed(parse(new byte[] {(byte) 0x80, 0x2e, 0x01, 0x03, 0x01}), HelloFailure.NOT_TLS);
    assertThat(failed.detail()).contains("SSLv2-compatible ClientHello");
    assertFailed(parse(new byte[] {(byte) 0x80}), HelloFailure.NOT_TLS);
  }

  @Test
  void garbageIsNotTls() {
    Failed failed =
        assertFailed(parse(new byte[] {0x00, (byte) 0xff, 0x13, 0x37}), HelloFailure.NOT_TLS);
    assertThat(failed.detail()).contains("0x00");
    assertFailed(parse(new byte[] {21, 3, 3, 0, 2, 2, 40}), HelloFailure.NOT_TLS); // an alert
  }

  @Test
  void emptyInputNeedsMore() {
    assertThat(parse(new byte[0])).isSameAs(ParseResult.NeedMore.INSTANCE);
  }

  // ---- record layer ------------------------------------------------------------------------

  @Test
  void nonHandshakeRecordInTheMiddleOfTheHelloIsBad() {
    byte[] message = new HelloBuilder().sni("a.example").message();
    byte[] first = TestHellos.reframe(Arrays.copyOf(message, 20), 20);
    byte[] rest = TestHellos.reframe(Arrays.copyOfRange(message, 20, message.length), 1000);
    byte[] ccs = {20, 3, 3, 0, 1, 1};

    Failed failed =
        assertFailed(parse(TestHellos.concat(first, ccs, rest)), HelloFailure.BAD_HELLO);

    assertThat(failed.detail()).contains("content type 20");
  }

  @Test
  void zeroLengthRecordIsBad() {
    assertFailed(parse(new byte[] {22, 3, 1, 0, 0}), HelloFailure.BAD_HELLO);
    byte[] message = new HelloBuilder().message();
    byte[] withEmpty =
        TestHellos.concat(
            TestHellos.reframe(Arrays.copyOf(message, 10), 10),
            new byte[] {22, 3, 1, 0, 0},
            TestHellos.reframe(Arrays.copyOfRange(message, 10, message.length), 1000));
    assertFailed(parse(withEmpty), HelloFailure.BAD_HELLO);
  }

  @Test
  void recordLongerThan2To14IsBad() {
    assertFailed(parse(new byte[] {22, 3, 1, 0x40, 0x01}), HelloFailure.BAD_HELLO);
  }

  @Test
  void recordVersionMajorOtherThan3IsBad() {
    assertFailed(parse(new byte[] {22, 2}), HelloFailure.BAD_HELLO);
  }

  @Test
  void handshakeTypeOtherThanClientHelloIsBad() {
    byte[] serverHello = TestHellos.record(new HelloBuilder().message(2));
    Failed failed = assertFailed(parse(Arrays.copyOf(serverHello, 6)), HelloFailure.BAD_HELLO);
    assertThat(failed.detail()).contains("handshake type 2");
  }

  @Test
  void declaredLengthOverTheLimitIsTooLargeBeforeTheBytesArrive() {
    ClientHelloParser small = new ClientHelloParser(16 * 1024);
    // record header + handshake header declaring a 100 000-byte hello, nothing else yet
    byte[] start = {22, 3, 1, 0x40, 0x00, 1, 0x01, (byte) 0x86, (byte) 0xa0};

    assertFailed(parseWith(small, start), HelloFailure.HELLO_TOO_LARGE);
  }

  @Test
  void recordBytesOverTheLimitAreTooLargeBeforeTheBytesArrive() {
    byte[] message =
        new HelloBuilder().alpn(TestHellos.manyProtocols(100).toArray(String[]::new)).message();
    assertThat(message.length).isLessThan(2000);
    // 1-byte records multiply the size by six: over a 4 KiB limit although the message is not
    ClientHelloParser small = new ClientHelloParser(4096);
    byte[] records = TestHellos.reframe(message, 1);
    assertThat(parseWith(small, Arrays.copyOf(records, 4090)))
        .isSameAs(ParseResult.NeedMore.INSTANCE);

    assertFailed(parseWith(small, Arrays.copyOf(records, 4097)), HelloFailure.HELLO_TOO_LARGE);
  }

  @Test
  void helloExactlyAtTheLimitIsAccepted() {
    byte[] record = new HelloBuilder().sni("a.example").record();
    assertThat(parseWith(new ClientHelloParser(record.length), record)).isInstanceOf(Done.class);
    assertFailed(
        parseWith(new ClientHelloParser(record.length - 1), record), HelloFailure.HELLO_TOO_LARGE);
  }

  // ---- ClientHello body --------------------------------------------------------------------

  @Test
  void helloWithoutExtensionsReportsTheLegacyVersion() {
    HelloBuilder builder = new HelloBuilder().noExtensions();
    builder.legacyVersion = 0x0301;

    ClientHello parsed = done(builder.record());

    assertThat(parsed.sni()).isNull();
    assertThat(parsed.alpn()).isEmpty();
    assertThat(parsed.versions()).containsExactly(0x0301);
  }

  @Test
  void sessionIdLongerThan32IsBad() {
    HelloBuilder builder = new HelloBuilder();
    builder.sessionId = new byte[33];
    assertFailed(parse(builder.record()), HelloFailure.BAD_HELLO);
  }

  @Test
  void oddOrEmptyCipherSuitesAreBad() {
    HelloBuilder odd = new HelloBuilder();
    odd.cipherSuites = new byte[] {0x13, 0x01, 0x13};
    assertFailed(parse(odd.record()), HelloFailure.BAD_HELLO);
    HelloBuilder empty = new HelloBuilder();
    empty.cipherSuites = new byte[0];
    assertFailed(parse(empty.record()), HelloFailure.BAD_HELLO);
  }

  @Test
  void noCompressionMethodsIsBad() {
    HelloBuilder builder = new HelloBuilder();
    builder.compression = new byte[0];
    assertFailed(parse(builder.record()), HelloFailure.BAD_HELLO);
  }

  @Test
  void truncatedBodyIsBad() {
    byte[] message = new HelloBuilder().noExtensions().message();
    byte[] truncated = Arrays.copyOf(message, 4 + 20);
    truncated[3] = 20; // declared length matches what is there: body ends inside random
    assertFailed(parse(TestHellos.record(truncated)), HelloFailure.BAD_HELLO);
  }

  @Test
  void extensionsBlockThatDoesNotFillTheMessageIsBad() {
    HelloBuilder shorter = new HelloBuilder().sni("a.example");
    shorter.extensionsLengthOverride = 3;
    assertFailed(parse(shorter.record()), HelloFailure.BAD_HELLO);
    HelloBuilder longer = new HelloBuilder().sni("a.example");
    longer.extensionsLengthOverride = 500;
    assertFailed(parse(longer.record()), HelloFailure.BAD_HELLO);
  }

  @Test
  void extensionLongerThanTheBlockIsBad() {
    byte[] record = new HelloBuilder().rawExtension(0xff01, 50, new byte[] {0}).record();
    Failed failed = assertFailed(parse(record), HelloFailure.BAD_HELLO);
    assertThat(failed.detail()).contains("extension 65281 length 50");
  }

  @Test
  void extensionContentNotFillingItsLengthIsBad() {
    // server_name list says 3 bytes but the extension holds 6
    byte[] data = {0, 3, 0, 0, 0, 9, 9, 9};
    assertFailed(parse(new HelloBuilder().extension(0, data).record()), HelloFailure.BAD_HELLO);
  }

  @Test
  void duplicateExtensionsAreBad() {
    byte[] record = new HelloBuilder().alpn("h2").alpn("http/1.1").record();
    Failed failed = assertFailed(parse(record), HelloFailure.BAD_HELLO);
    assertThat(failed.detail()).contains("duplicate extension 16");
    assertFailed(
        parse(
            new HelloBuilder()
                .extension(0x1234, new byte[0])
                .extension(0x1234, new byte[0])
                .record()),
        HelloFailure.BAD_HELLO);
  }

  // ---- SNI ---------------------------------------------------------------------------------

  @Test
  void noServerNameGivesNullSni() {
    assertThat(done(new HelloBuilder().alpn("h2").record()).sni()).isNull();
  }

  @Test
  void severalHostNamesAreBad() {
    Failed failed =
        assertFailed(
            parse(new HelloBuilder().sni("a.example", "b.example").record()),
            HelloFailure.BAD_HELLO);
    assertThat(failed.detail()).contains("more than one host_name");
  }

  @Test
  void otherNameTypesAreSkipped() {
    byte[] data =
        HelloBuilder.vector16(
            HelloBuilder.concat(
                new byte[] {7, 0, 2, 'x', 'y'},
                new byte[] {0, 0, 9},
                "a.example".getBytes(StandardCharsets.US_ASCII)));
    assertThat(done(new HelloBuilder().extension(0, data).record()).sni()).isEqualTo("a.example");
  }

  @Test
  void emptyServerNameListIsBad() {
    assertFailed(
        parse(new HelloBuilder().extension(0, new byte[] {0, 0}).record()), HelloFailure.BAD_HELLO);
  }

  @ParameterizedTest
  @ValueSource(strings = {"192.0.2.1", "192.0.2.1.", "::1", "[2001:db8::1]", "2001:DB8::1"})
  void ipLiteralSniIsTreatedAsNoSni(String literal) {
    assertThat(done(new HelloBuilder().sni(literal).record()).sni()).isNull();
  }

  @Test
  void upperCaseAndTrailingDotAreNormalised() {
    assertThat(done(new HelloBuilder().sni("WWW.Example.COM.").record()).sni())
        .isEqualTo("www.example.com");
    assertThat(done(new HelloBuilder().sni("under_score.example").record()).sni())
        .isEqualTo("under_score.example");
    assertThat(done(new HelloBuilder().sni("localhost").record()).sni()).isEqualTo("localhost");
    assertThat(done(new HelloBuilder().sni("999.1.1.1").record()).sni()).isEqualTo("999.1.1.1");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "a..example",
        ".example",
        "example..",
        ".",
        "-a.example",
        "a-.example",
        "a b.example",
        "a/b.example",
        "a*.example",
        "caf\u00e9.example",
        "a\u0000.example",
        "a.exam%ple"
      })
  void invalidSniIsBad(String name) {
    Failed failed =
        assertFailed(parse(new HelloBuilder().sni(name).record()), HelloFailure.BAD_HELLO);
    assertThat(failed.detail()).startsWith("invalid SNI host_name");
  }

  @Test
  void sniLabelAndNameLengthsAreBounded() {
    String label63 = "a".repeat(63);
    assertThat(done(new HelloBuilder().sni(label63 + ".example").record()).sni())
        .isEqualTo(label63 + ".example");
    assertFailed(
        parse(new HelloBuilder().sni("a".repeat(64) + ".example").record()),
        HelloFailure.BAD_HELLO);
    String name253 = String.join(".", label63, label63, label63, "a".repeat(61));
    assertThat(name253).hasSize(253);
    assertThat(done(new HelloBuilder().sni(name253).record()).sni()).isEqualTo(name253);
    assertFailed(parse(new HelloBuilder().sni(name253 + "b").record()), HelloFailure.BAD_HELLO);
  }

  @Test
  void failureDetailEscapesClientBytes() {
    Failed failed =
        assertFailed(
            parse(new HelloBuilder().sni("evil\n.example").record()), HelloFailure.BAD_HELLO);
    assertThat(failed.detail()).contains("evil\\x0a.example").doesNotContain("\n");
  }

  // ---- ALPN and versions -------------------------------------------------------------------

  @Test
  void alpnListKeepsClientOrder() {
    ClientHello parsed = done(new HelloBuilder().alpn("http/1.1", "h2", "acme-tls/1").record());
    assertThat(parsed.alpn()).containsExactly("http/1.1", "h2", "acme-tls/1");
    assertThat(parsed.alpn()).contains("h2");
  }

  @Test
  void alpnKeepsAtMostSixteenNamesOfAPrefixAndCountsTheRest() {
    String[] names = new String[20];
    for (int i = 0; i < names.length; i++) {
      names[i] = "p" + i;
    }
    ClientHello parsed = done(new HelloBuilder().alpn(names).record());
    assertThat(parsed.alpn()).containsExactly(Arrays.copyOf(names, 16));
    assertThat(parsed.alpnOmitted()).isEqualTo(4);
    assertThat(parsed.toString()).contains("p15] +4 more");
  }

  @Test
  void alpnKeepsAtMost256BytesAndStopsAtTheFirstNameThatDoesNotFit() {
    String n100 = "a".repeat(100);
    String n200 = "b".repeat(200);
    ClientHello parsed = done(new HelloBuilder().alpn(n100, "c".repeat(150), n200, "h2").record());
    assertThat(parsed.alpn()).containsExactly(n100, "c".repeat(150));
    assertThat(parsed.alpnOmitted()).isEqualTo(2);
    // one name of 255 bytes fits alone
    ClientHello longest = done(new HelloBuilder().alpn("x".repeat(255), "h2").record());
    assertThat(longest.alpn()).containsExactly("x".repeat(255));
    assertThat(longest.alpnOmitted()).isEqualTo(1);
  }

  @Test
  void alpnBytesOutsidePrintableAsciiAreEscaped() {
    byte[] list = {0, 9, 4, 'h', '\r', '\n', 2, 3, 0x1b, '\\', (byte) 0xff};
    ClientHello parsed = done(new HelloBuilder().extension(16, list).record());
    assertThat(parsed.alpn()).containsExactly("h\\x0d\\x0a\\x02", "\\x1b\\x5c\\xff");
  }

  @Test
  void maximalHelloRetainsOnlyCappedData() {
    // 10 KB of 1-byte ALPN names, 2000 cipher suites, 500 groups, the longest SNI, hundreds
    // of extensions: what the parse keeps stays the same few hundred bytes.
    HelloBuilder builder = new HelloBuilder().sni(maximalHostName());
    int[] suites = new int[2000];
    for (int i = 0; i < suites.length; i++) {
      suites[i] = 0x0a00 + i;
    }
    builder.cipherSuites(suites);
    int[] groups = new int[500];
    for (int i = 0; i < groups.length; i++) {
      groups[i] = 0x0100 + i;
    }
    builder.extension(10, groupList(groups));
    for (int type = 1000; type < 1300; type++) {
      builder.extension(type, new byte[3]);
    }
    byte[] alpn = new byte[2 + 2 * 5000];
    alpn[0] = (byte) ((alpn.length - 2) >> 8);
    alpn[1] = (byte) (alpn.length - 2);
    for (int i = 2; i < alpn.length; i += 2) {
      alpn[i] = 1;
      alpn[i + 1] = (byte) ('a' + i % 26);
    }
    builder.extension(16, alpn);
    byte[] message = builder.message();
    assertThat(message.length).isGreaterThan(16 * 1024);

    ClientHello parsed = done(TestHellos.reframe(message, 16384));

    assertThat(parsed.sni()).hasSize(HostNames.MAX_NAME);
    assertThat(parsed.alpn()).hasSize(ClientHello.MAX_ALPN_NAMES);
    assertThat(parsed.alpnOmitted()).isEqualTo(5000 - ClientHello.MAX_ALPN_NAMES);
    assertThat(String.join("", parsed.alpn()).length())
        .isLessThanOrEqualTo(ClientHello.MAX_ALPN_BYTES);
    assertThat(parsed.versions()).hasSize(1);
    assertThat(parsed.ecdsa()).isEqualTo(new EcdsaSupport(false, 0, 0));
  }

  private static String maximalHostName() {
    StringBuilder sb = new StringBuilder();
    while (sb.length() < HostNames.MAX_NAME) {
      if (sb.length() > 0) {
        sb.append('.');
      }
      sb.append("a".repeat(Math.min(HostNames.MAX_LABEL, HostNames.MAX_NAME - sb.length())));
    }
    return sb.toString();
  }

  private static byte[] groupList(int[] groups) {
    byte[] list = new byte[2 + 2 * groups.length];
    list[0] = (byte) ((list.length - 2) >> 8);
    list[1] = (byte) (list.length - 2);
    for (int i = 0; i < groups.length; i++) {
      list[2 + 2 * i] = (byte) (groups[i] >> 8);
      list[3 + 2 * i] = (byte) groups[i];
    }
    return list;
  }

  @Test
  void emptyAlpnListOrEmptyProtocolNameIsBad() {
    assertFailed(
        parse(new HelloBuilder().extension(16, new byte[] {0, 0}).record()),
        HelloFailure.BAD_HELLO);
    assertFailed(parse(new HelloBuilder().alpn("h2", "").record()), HelloFailure.BAD_HELLO);
    // name length pointing past the list
    assertFailed(
        parse(new HelloBuilder().extension(16, new byte[] {0, 3, 5, 'h', '2'}).record()),
        HelloFailure.BAD_HELLO);
  }

  @Test
  void supportedVersionsWithoutGrease() {
    ClientHello parsed = done(new HelloBuilder().versions(0x7a7a, 0x0304, 0x0303).record());
    assertThat(parsed.versions()).containsExactly(0x0304, 0x0303);
    assertThat(parsed.versions().stream().max(Integer::compare)).contains(0x0304);
    assertThat(parsed.toString())
        .isEqualTo(
            "ClientHello[sni=-, alpn=[], versions=[TLSv1.3, TLSv1.2], ecdsa, "
                + parsed.recordBytes()
                + " bytes in 1 record]");
  }

  @Test
  void oddSupportedVersionsLengthIsBad() {
    assertFailed(
        parse(new HelloBuilder().extension(43, new byte[] {3, 3, 4, 3}).record()),
        HelloFailure.BAD_HELLO);
    assertFailed(
        parse(new HelloBuilder().extension(43, new byte[] {4, 3, 4}).record()),
        HelloFailure.BAD_HELLO);
  }

  @Test
  void failureReasonsAreLowerSnakeCase() {
    assertThat(Arrays.stream(HelloFailure.values()).map(f -> f.closeReason().label()))
        .containsExactly(
            "not_tls", "bad_hello", "hello_too_large", "hello_timeout", "client_closed");
  }

  // ---- helpers -----------------------------------------------------------------------------

  private ParseResult parse(byte[] bytes) {
    return parseWith(parser, bytes);
  }

  private static ParseResult parseWith(ClientHelloParser parser, byte[] bytes) {
    ByteBuf buf = TestHellos.buffer(bytes);
    try {
      return parser.parse(buf);
    } finally {
      buf.release();
    }
  }

  private ClientHello done(byte[] bytes) {
    ParseResult result = parse(bytes);
    assertThat(result).isInstanceOf(Done.class);
    return ((Done) result).hello();
  }

  private static Failed assertFailed(ParseResult result, HelloFailure failure) {
    assertThat(result).isInstanceOf(Failed.class);
    Failed failed = (Failed) result;
    assertThat(failed.failure()).as(failed.detail()).isEqualTo(failure);
    assertThat(failed.detail()).doesNotStartWith("unexpected parser error");
    return failed;
  }
}
