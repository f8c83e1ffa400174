package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.tollgate.connection.CloseReason;
import io.tollgate.pki.CertificateAuthority;
import io.tollgate.pki.CertificateAuthority.KeyType;
import io.tollgate.pki.IssuedCertificate;
import io.tollgate.testkit.CommandLineTools;
import io.tollgate.testkit.CommandLineTools.ProcessResult;
import io.tollgate.testkit.TlsTestServer;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The port-80 companion ({@code listeners[].protocol = http}, issue 12) with curl and raw sockets
 * against real plain-HTTP origins: redirects, rejects, ACME http-01 answers, relays to a tenant's
 * http-pool with a PROXY header, and every way a request can go wrong or end early.
 */
@Timeout(120)
class HttpListenerTest {
  private static final Duration TOOL_TIMEOUT = Duration.ofSeconds(20);

  @TempDir static Path dir;
  @RegisterExtension static final ClassResources resources = new ClassResources();
  private static TollgateFixture tollgate;
  private static PlainHttpResponder originA;
  private static PlainHttpResponder originB;
  private static TlsTestServer backendA;
  private static TlsTestServer backendB;
  private static int http;
  private static int https;

  @BeforeAll
  static void start() throws Exception {
    CertificateAuthority root = CertificateAuthority.create("Http Listener Root", KeyType.EC_P256);
    IssuedCertificate shop = root.issue(KeyType.EC_P256, "shop.test");
    shop.writePem(dir, "shop");
    originA = new PlainHttpResponder("tenant-a");
    originB = new PlainHttpResponder("tenant-b");
    backendA = resources.add(TlsTestServer.startPlain(originA));
    backendB = resources.add(TlsTestServer.startPlain(originB));
    TlsTestServer shopBackend =
        resources.add(TlsTestServer.startPlain(new PlainHttpResponder("shop")));
    tollgate =
        resources.add(
            TollgateFixture.startIn(
                dir,
                """
                [ { name = main, address = "127.0.0.1:0" },
                  { name = web, address = "127.0.0.1:0", protocol = http },
                  { name = behind, address = "127.0.0.1:0", protocol = http,
                    proxy-protocol { mode = required, trusted = ["127.0.0.1"] } } ]""",
                String.format(
                    """
                    timeouts { client-hello = 1s }
                    routes = [
                      { hosts = ["shop.test"], mode = offload, pool = shop,
                        certificate { chain = "shop.pem", key = "shop.key" } }
                      { hosts = ["tenant-a.test"], pool = tls, http-pool = http-a }
                      { hosts = ["tenant-b.test", "*.b.test"], pool = tls, http-pool = http-b }
                      { hosts = ["closed.test"], pool = tls, http = reject }
                      { hosts = ["down.test"], pool = tls, http-pool = dead }
                    ]
                    pools {
                      shop { servers = ["127.0.0.1:%d"] }
                      tls { servers = ["127.0.0.1:9"] }
                      http-a { servers = ["127.0.0.1:%d"], proxy-protocol = v1 }
                      http-b { servers = ["127.0.0.1:%d"] }
                      dead { servers = ["127.0.0.1:%d"], connect-attempts = 1 }
                    }
                    """,
                    shopBackend.port(), backendA.port(), backendB.port(), deadPort())));
    http = tollgate.address("web").getPort();
    https = tollgate.port();
    // Tollgate's ACME client, stood in for: it has every token pending for every host, so only the
    // router's own rules keep a tenant's challenge with the tenant.
    tollgate
        .tollgate()
        .httpChallenges(
            (host, token) ->
                token.startsWith("pending")
                    ? Optional.of(token + ".key-of-" + host)
                    : Optional.empty());
  }

  /** A port nobody listens on (bound, then closed). */
  private static int deadPort() throws Exception {
    try (java.net.ServerSocket s =
        new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private static String curl() {
    Optional<Path> curl = CommandLineTools.which("curl");
    assumeThat(curl).as("curl on PATH").isPresent();
    return curl.get().toString();
  }

  /** curl with the name resolved to the http listener; prints headers and body, then the status. */
  private static ProcessResult curl(String host, String path, String... extra) {
    List<String> cmd = new ArrayList<>();
    cmd.addAll(
        List.of(
            curl(),
            "-sS",
            "--max-time",
            "15",
            "-D",
            "-",
            "--resolve",
            host + ":" + http + ":127.0.0.1",
            "-w",
            "\nstatus=%{http_code}\n"));
    cmd.addAll(List.of(extra));
    cmd.add("http://" + host + ":" + http + path);
    return CommandLineTools.run(TOOL_TIMEOUT, cmd);
  }

  private static void awaitClosed(CloseReason reason, long atLeast) throws InterruptedException {
    TollgateFixture.await(
        () -> tollgate.metrics().closedCount(reason) >= atLeast,
        Duration.ofSeconds(10),
        () -> reason.label() + " (all closes: " + tollgate.metrics().closedByReason() + ")");
  }

  private static long closed(CloseReason reason) {
    return tollgate.metrics().closedCount(reason);
  }

  @Test
  void redirectsToHttpsKeepingPathAndQueryWithoutThePort() throws Exception {
    long before = closed(CloseReason.HTTP_REDIRECTED);
    ProcessResult r = curl("shop.test", "/cart/items?id=7&x=%20y");
    assertThat(r.ok()).as("%s", r).isTrue();
    assertThat(r.stdout())
        .as("%s", r)
        .startsWith("HTTP/1.1 301 Moved Permanently\r\n")
        .contains("\r\nLocation: https://shop.test/cart/items?id=7&x=%20y\r\n")
        .contains("\r\nConnection: close\r\n")
        .endsWith("status=301\n");
    awaitClosed(CloseReason.HTTP_REDIRECTED, before + 1);
  }

  @Test
  void curlFollowingTheRedirectReachesTheOffloadRoute() throws Exception {
    Path ca = dir.resolve("shop.pem");
    // -L follows to https://shop.test/..., resolved to the TLS listener's port by --connect-to.
    ProcessResult r =
        curl(
            "shop.test",
            "/followed",
            "-L",
            "--connect-to",
            "shop.test:443:127.0.0.1:" + https,
            "--cacert",
            ca.toString());
    assertThat(r.ok()).as("%s", r).isTrue();
    assertThat(r.stdout())
        .as("%s", r)
        .contains("HTTP/1.1 301 ")
        .contains("hello from shop over plaintext: GET /followed HTTP/1.1")
        .endsWith("status=200\n");
  }

  @Test
  void aRouteWithHttpRejectGets403() throws Exception {
    long before = closed(CloseReason.HTTP_REJECTED);
    ProcessResult r = curl("closed.test", "/");
    assertThat(r.stdout())
        .as("%s", r)
        .startsWith("HTTP/1.1 403 Forbidden\r\n")
        .endsWith("status=403\n");
    awaitClosed(CloseReason.HTTP_REJECTED, before + 1);
  }

  @Test
  void anUnknownHostOrNoHostUnderDefaultRouteRejectGets421() throws Exception {
    long before = closed(CloseReason.NO_ROUTE);
    ProcessResult r = curl("nobody.test", "/");
    assertThat(r.stdout()).as("%s", r).startsWith("HTTP/1.1 421 Misdirected Request\r\n");
    // HTTP/1.0 may leave Host out: the default route decides, and it rejects here.
    String answer = exchange("GET / HTTP/1.0\r\n\r\n", true);
    assertThat(answer).startsWith("HTTP/1.1 421 Misdirected Request\r\n");
    awaitClosed(CloseReason.NO_ROUTE, before + 2);
  }

  @Test
  void answersTollgatesPendingHttp01ChallengeForAnOffloadRoute() throws Exception {
    long before = closed(CloseReason.HTTP_CHALLENGE_ANSWERED);
    ProcessResult r = curl("shop.test", "/.well-known/acme-challenge/pending_Tok-1");
    assertThat(r.stdout())
        .as("%s", r)
        .startsWith("HTTP/1.1 200 OK\r\n")
        .endsWith("\r\n\r\npending_Tok-1.key-of-shop.test\nstatus=200\n");
    awaitClosed(CloseReason.HTTP_CHALLENGE_ANSWERED, before + 1);
    // A token Tollgate has no order for is not a challenge of Tollgate's: the route's action.
    ProcessResult other = curl("shop.test", "/.well-known/acme-challenge/unknown");
    assertThat(other.stdout()).as("%s", other).startsWith("HTTP/1.1 301 ");
  }

  @Test
  void relaysTheRequestUnchangedToTheHttpPoolAfterItsProxyHeader() throws Exception {
    ProcessResult r = curl("tenant-a.test", "/index.html?q=1", "-H", "X-Tenant: a");
    assertThat(r.ok()).as("%s", r).isTrue();
    assertThat(r.stdout())
        .as("%s", r)
        .contains("hello from tenant-a over plaintext: PROXY TCP4 127.0.0.1 127.0.0.1 ")
        .endsWith("status=200\n");
    String head = headContaining(originA, "GET /index.html?q=1 ");
    Matcher m =
        Pattern.compile("^PROXY TCP4 127\\.0\\.0\\.1 127\\.0\\.0\\.1 (\\d+) (\\d+)\r\n")
            .matcher(head);
    assertThat(m.find()).as(head).isTrue();
    assertThat(Integer.parseInt(m.group(2))).isEqualTo(http);
    // Exactly what curl sent, after the header.
    assertThat(head.substring(m.end()))
        .startsWith("GET /index.html?q=1 HTTP/1.1\r\nHost: tenant-a.test:" + http + "\r\n")
        .contains("\r\nX-Tenant: a\r\n")
        .endsWith("\r\n\r\n");
  }

  @Test
  void aTenantsHttpPoolNeverReceivesAnotherHostsRequest() throws Exception {
    // Interleaved requests for both tenants (one through a wildcard), the tenant's own ACME
    // challenge among them, which must reach the tenant although Tollgate's stand-in client
    // claims every pending token, plus names that are not the tenants'.
    for (int i = 0; i < 4; i++) {
      assertThat(curl("tenant-a.test", "/a" + i).stdout()).contains("hello from tenant-a");
      assertThat(curl("tenant-b.test", "/b" + i).stdout()).contains("hello from tenant-b");
      assertThat(curl("x" + i + ".b.test", "/wb" + i).stdout()).contains("hello from tenant-b");
      assertThat(curl("shop.test", "/s" + i).stdout()).startsWith("HTTP/1.1 301 ");
    }
    ProcessResult own = curl("tenant-a.test", "/.well-known/acme-challenge/pending_A");
    assertThat(own.stdout())
        .as("%s", own)
        .contains("hello from tenant-a over plaintext")
        .doesNotContain("key-of");
    for (String head : originA.headTexts()) {
      assertThat(hostOf(head)).as(head).matches("tenant-a\\.test(:" + http + ")?");
    }
    for (String head : originB.headTexts()) {
      assertThat(hostOf(head)).as(head).matches("(tenant-b|x\\d\\.b)\\.test:" + http);
    }
    assertThat(originA.headTexts())
        .anyMatch(h -> h.contains("GET /.well-known/acme-challenge/pending_A "));
  }

  @Test
  void anHttpPoolThatIsDownGets502() throws Exception {
    long before = closed(CloseReason.CONNECT_FAILED);
    ProcessResult r = curl("down.test", "/");
    assertThat(r.stdout()).as("%s", r).startsWith("HTTP/1.1 502 Bad Gateway\r\n");
    awaitClosed(CloseReason.CONNECT_FAILED, before + 1);
  }

  @Test
  void garbageAndTlsOnTheHttpListenerGet400() throws Exception {
    long before = closed(CloseReason.HTTP_BAD_REQUEST);
    assertThat(exchange("HELLO THERE\r\n\r\n", true)).startsWith("HTTP/1.1 400 Bad Request\r\n");
    assertThat(exchange("GET / HTTP/1.1\r\n\r\n", true))
        .as("HTTP/1.1 without Host")
        .startsWith("HTTP/1.1 400 Bad Request\r\n");
    assertThat(exchange("GET / HTTP/1.1\r\nHost: a.test\r\nHost: b.test\r\n\r\n", true))
        .startsWith("HTTP/1.1 400 ");
    assertThat(exchange("\u0016\u0003\u0001\u0000\u0005hello", true)).startsWith("HTTP/1.1 400 ");
    awaitClosed(CloseReason.HTTP_BAD_REQUEST, before + 4);
  }

  @Test
  void anOversizeHeadGets431EvenWhileTheClientIsStillSending() throws Exception {
    long before = closed(CloseReason.HTTP_REQUEST_TOO_LARGE);
    ProcessResult r = curl("tenant-a.test", "/big", "-H", "X-Big: " + "x".repeat(20_000));
    assertThat(r.stdout())
        .as("%s", r)
        .startsWith("HTTP/1.1 431 Request Header Fields Too Large\r\n");
    awaitClosed(CloseReason.HTTP_REQUEST_TOO_LARGE, before + 1);
    assertThat(originA.headTexts()).noneMatch(h -> h.contains("GET /big "));
  }

  @Test
  void aSlowRequestTimesOutWith408() throws Exception {
    long before = closed(CloseReason.HTTP_REQUEST_TIMEOUT);
    long t0 = System.nanoTime();
    String answer = exchange("GET /slow HTTP/1.1\r\nHost: tenant-a.test\r\n", false);
    assertThat(answer).startsWith("HTTP/1.1 408 Request Timeout\r\n");
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(10));
    awaitClosed(CloseReason.HTTP_REQUEST_TIMEOUT, before + 1);
    assertThat(originA.headTexts()).noneMatch(h -> h.contains("GET /slow "));
  }

  @Test
  void aClientThatLeavesMidHeadIsClientClosedAndNoBackendIsOpened() throws Exception {
    long before = closed(CloseReason.CLIENT_CLOSED);
    int acceptedA = backendA.acceptedConnections();
    try (Socket s = new Socket("127.0.0.1", http)) {
      s.getOutputStream()
          .write("GET /gone HTTP/1.1\r\nHost: tenant-a.te".getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
    }
    awaitClosed(CloseReason.CLIENT_CLOSED, before + 1);
    assertThat(backendA.acceptedConnections()).isEqualTo(acceptedA);
  }

  @Test
  void behindAnotherBalancerTheClientItNamesReachesTheHttpPool() throws Exception {
    String request = "GET /behind HTTP/1.1\r\nHost: tenant-a.test\r\n\r\n";
    String answer =
        exchange(
            tollgate.address("behind").getPort(),
            "PROXY TCP4 192.0.2.9 127.0.0.1 5555 80\r\n" + request,
            false);
    assertThat(answer).contains("hello from tenant-a over plaintext: PROXY TCP4 192.0.2.9 ");
    String head = headContaining(originA, "GET /behind ");
    // The upstream's header is consumed; the pool's own names the client it gave.
    assertThat(head).startsWith("PROXY TCP4 192.0.2.9 127.0.0.1 5555 80\r\n" + request);
  }

  private static String exchange(String request, boolean end) throws Exception {
    return exchange(http, request, end);
  }

  /**
   * Sends {@code request} on a new connection; with {@code end}, half-closes after it. Returns all
   * Tollgate sent until it closed.
   */
  private static String exchange(int port, String request, boolean end) throws Exception {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
      s.getOutputStream().flush();
      if (end) {
        s.shutdownOutput();
      }
      InputStream in = s.getInputStream();
      ByteArrayOutputStream got = new ByteArrayOutputStream();
      in.transferTo(got);
      return got.toString(StandardCharsets.ISO_8859_1);
    }
  }

  private static String headContaining(PlainHttpResponder origin, String text) {
    return origin.headTexts().stream()
        .filter(h -> h.contains(text))
        .findFirst()
        .orElseThrow(
            () -> new AssertionError("no head with " + text + " in " + origin.headTexts()));
  }

  private static String hostOf(String head) {
    Matcher m = Pattern.compile("\r\nHost: ([^\r]*)\r\n").matcher(head);
    return m.find() ? m.group(1) : null;
  }
}
