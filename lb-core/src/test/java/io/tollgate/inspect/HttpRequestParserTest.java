package io.tollgate.inspect;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

class HttpRequestParserTest {
  private final HttpRequestParser parser = new HttpRequestParser(1024);

  private HttpRequestParser.Result parse(String text) {
    ByteBuf buf = Unpooled.copiedBuffer(text, StandardCharsets.ISO_8859_1);
    try {
      HttpRequestParser.Result r = parser.parse(buf, new HttpRequestParser.Progress());
      assertThat(buf.readerIndex()).isZero();
      return r;
    } finally {
      buf.release();
    }
  }

  private HttpRequestHead head(String text) {
    HttpRequestParser.Result r = parse(text);
    assertThat(r).as(text).isInstanceOf(HttpRequestParser.Done.class);
    return ((HttpRequestParser.Done) r).head();
  }

  private String failure(String text, HttpRequestFailure expected) {
    HttpRequestParser.Result r = parse(text);
    assertThat(r).as(text).isInstanceOf(HttpRequestParser.Failed.class);
    HttpRequestParser.Failed f = (HttpRequestParser.Failed) r;
    assertThat(f.failure()).isEqualTo(expected);
    return f.detail();
  }

  @Test
  void readsMethodPathAndNormalisedHostWithoutPort() {
    String text = "GET /a/b?c=d HTTP/1.1\r\nHost: WWW.Shop.Test.:8080\r\nX: y\r\n\r\n";
    HttpRequestHead h = head(text + "pipelined");
    assertThat(h.method()).isEqualTo("GET");
    assertThat(h.path()).isEqualTo("/a/b?c=d");
    assertThat(h.host()).isEqualTo("www.shop.test");
    assertThat(h.headBytes()).isEqualTo(text.length());
  }

  @Test
  void acceptsBareLfCaseInsensitiveHostAndOptionalWhitespace() {
    assertThat(head("HEAD / HTTP/1.1\nhOsT:\t a.test \n\n").host()).isEqualTo("a.test");
  }

  @Test
  void absoluteFormTargetsAuthorityWinsOverHost() {
    HttpRequestHead h = head("GET http://user@b.test:80/p HTTP/1.1\r\nHost: a.test\r\n\r\n");
    assertThat(h.host()).isEqualTo("b.test");
    assertThat(h.path()).isEqualTo("/p");
  }

  @Test
  void ipLiteralsAndHttp10WithoutHostHaveNoHostName() {
    assertThat(head("GET / HTTP/1.1\r\nHost: 192.0.2.1:80\r\n\r\n").host()).isNull();
    assertThat(head("GET / HTTP/1.1\r\nHost: [2001:db8::1]:80\r\n\r\n").host()).isNull();
    assertThat(head("GET / HTTP/1.0\r\n\r\n").host()).isNull();
    assertThat(head("OPTIONS * HTTP/1.1\r\nHost: a.test\r\n\r\n").path()).isEqualTo("/");
  }

  @Test
  void malformedHeadsAreBadRequests() {
    assertThat(failure("\u0016\u0003\u0001", HttpRequestFailure.BAD_REQUEST)).contains("TLS");
    failure("get / HTTP/1.1\r\n\r\n", HttpRequestFailure.BAD_REQUEST);
    failure("GET / HTTP/1.1\r\n\r\n", HttpRequestFailure.BAD_REQUEST); // 1.1 needs Host
    failure("GET / HTTP/2.0\r\nHost: a\r\n\r\n", HttpRequestFailure.BAD_REQUEST);
    failure("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", HttpRequestFailure.BAD_REQUEST);
    failure("GET /\u0001 HTTP/1.1\r\nHost: a\r\n\r\n", HttpRequestFailure.BAD_REQUEST);
    failure("CONNECT a.test:443 HTTP/1.1\r\nHost: a\r\n\r\n", HttpRequestFailure.BAD_REQUEST);
    failure("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", HttpRequestFailure.BAD_REQUEST);
    failure("GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", HttpRequestFailure.BAD_REQUEST);
    failure("GET / HTTP/1.1\r\nHo st: a\r\n\r\n", HttpRequestFailure.BAD_REQUEST);
    failure("GET / HTTP/1.1\r\nHost: a b\r\n\r\n", HttpRequestFailure.BAD_REQUEST);
    failure("GET / HTTP/1.1\r\nHost: a.test:80x\r\n\r\n", HttpRequestFailure.BAD_REQUEST);
    failure("GET / HTTP/1.1\rHost: a\r\n\r\n", HttpRequestFailure.BAD_REQUEST);
  }

  @Test
  void aHeadWithoutItsEndWithinTheLimitIsTooLarge() {
    String big = "GET / HTTP/1.1\r\nHost: a.test\r\nX: " + "x".repeat(1100);
    failure(big, HttpRequestFailure.TOO_LARGE);
    assertThat(parse("GET / HTTP/1.1\r\nHost: a.test\r\n"))
        .isSameAs(HttpRequestParser.NeedMore.INSTANCE);
  }

  @Test
  void byteByByteResumesAndAgreesWithAWholeParse() {
    String text = "GET /x HTTP/1.1\r\nHost: a.test\r\nAccept: */*\r\n\r\nBODY";
    ByteBuf buf = Unpooled.buffer();
    HttpRequestParser.Progress progress = new HttpRequestParser.Progress();
    HttpRequestParser.Result r = HttpRequestParser.NeedMore.INSTANCE;
    byte[] bytes = text.getBytes(StandardCharsets.ISO_8859_1);
    int i = 0;
    while (r == HttpRequestParser.NeedMore.INSTANCE) {
      buf.writeByte(bytes[i++]);
      r = parser.parse(buf, progress);
    }
    buf.release();
    assertThat(i).isEqualTo(text.indexOf("BODY"));
    assertThat(r).isEqualTo(parse(text));
  }

  @Test
  void randomBytesNeverThrow() {
    Random random = new Random(12);
    String valid = "GET /a HTTP/1.1\r\nHost: a.test\r\n\r\n";
    for (int n = 0; n < 20_000; n++) {
      byte[] b = valid.getBytes(StandardCharsets.ISO_8859_1);
      for (int k = random.nextInt(4); k >= 0; k--) {
        b[random.nextInt(b.length)] = (byte) random.nextInt(256);
      }
      ByteBuf buf = Unpooled.wrappedBuffer(b);
      assertThat(parser.parse(buf, new HttpRequestParser.Progress())).isNotNull();
      buf.release();
    }
  }
}
