package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.tollgate.connection.CloseReason;
import io.tollgate.testkit.CommandLineTools;
import io.tollgate.testkit.CommandLineTools.ProcessResult;
import io.tollgate.testkit.TlsTestServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 13's routes per listener on http listeners ({@code protocol = http}), with curl against
 * real plain-HTTP origins: a route with {@code listeners = [...]} answers only on those listeners,
 * elsewhere its name goes on as an unknown one (the next wildcard route, the listener's own {@code
 * default-route}, else the top-level one), so tenant A's http-pool never sees a request that came
 * in on tenant B's port. Each http-pool sends a PROXY v1 header, whose destination port tells the
 * test which listener a relayed request came in on. A route's {@code allow-from} / {@code
 * deny-from} hold there as on TLS listeners: a client they refuse gets 403, reason {@code denied},
 * and never reaches the route's http-pool.
 */
@Timeout(120)
class HttpListenerRoutesTest {
  private static final Duration TOOL_TIMEOUT = Duration.ofSeconds(20);
  private static final Pattern PROXY_V1 =
      Pattern.compile("^PROXY TCP4 127\\.0\\.0\\.1 127\\.0\\.0\\.1 (\\d+) (\\d+)\r\n");

  @TempDir static Path dir;
  @RegisterExtension static final ClassResources resources = new ClassResources();
  private static TollgateFixture tollgate;
  private static PlainHttpResponder originA;
  private static PlainHttpResponder originB;
  private static PlainHttpResponder originGuarded;
  private static int webA;
  private static int webB;
  private static int webShared;
  private static int webGuarded;
  private static int webProxied;

  @BeforeAll
  static void start() throws Exception {
    originA = new PlainHttpResponder("tenant-a");
    originB = new PlainHttpResponder("tenant-b");
    TlsTestServer backendA = resources.add(TlsTestServer.startPlain(originA));
    TlsTestServer backendB = resources.add(TlsTestServer.startPlain(originB));
    originGuarded = new PlainHttpResponder("tenant-g");
    TlsTestServer backendGuarded = resources.add(TlsTestServer.startPlain(originGuarded));
    tollgate =
        resources.add(
            TollgateFixture.startIn(
                dir,
                """
                [ { name = main, address = "127.0.0.1:0" }
                  { name = web-a, address = "127.0.0.1:0", protocol = http }
                  # tenant B's VIP: every name it has no route for is tenant B's
                  { name = web-b, address = "127.0.0.1:0", protocol = http,
                    default-route { pool = tls } }
                  { name = web-shared, address = "127.0.0.1:0", protocol = http }
                  # a dedicated VIP whose every name is for 127.0.0.2 only
                  { name = web-guarded, address = "127.0.0.1:0", protocol = http,
                    default-route { pool = tls, allow-from = ["127.0.0.2/32"] } }
                  { name = web-proxied, address = "127.0.0.1:0", protocol = http,
                    proxy-protocol { mode = required, trusted = ["127.0.0.1"] } } ]""",
                String.format(
                    """
                    access-log.path = "access.log"
                    default-route = reject
                    routes = [
                      { hosts = ["tenant-a.test"], pool = tls, http-pool = http-a,
                        listeners = [main, web-a] }
                      { hosts = ["tenant-b.test"], pool = tls, http-pool = http-b,
                        listeners = [main, web-b] }
                      { hosts = ["*.shared.test"], pool = tls, http = reject }
                      { hosts = ["www.shared.test"], pool = tls, http-pool = http-a,
                        listeners = [web-a] }
                      { hosts = ["guarded.test"], pool = tls, http-pool = http-g,
                        allow-from = ["127.0.0.2/32"] }
                      { hosts = ["closed.test"], pool = tls, http = redirect-https,
                        deny-from = ["127.0.0.0/8"] }
                    ]
                    pools {
                      tls { servers = ["127.0.0.1:9"] }
                      http-a { servers = ["127.0.0.1:%d"], proxy-protocol = v1 }
                      http-b { servers = ["127.0.0.1:%d"], proxy-protocol = v1 }
                      http-g { servers = ["127.0.0.1:%d"], proxy-protocol = v1 }
                    }
                    """,
                    backendA.port(), backendB.port(), backendGuarded.port())));
    webA = tollgate.address("web-a").getPort();
    webB = tollgate.address("web-b").getPort();
    webShared = tollgate.address("web-shared").getPort();
    webGuarded = tollgate.address("web-guarded").getPort();
    webProxied = tollgate.address("web-proxied").getPort();
  }

  private static String curl() {
    Optional<Path> curl = CommandLineTools.which("curl");
    assumeThat(curl).as("curl on PATH").isPresent();
    return curl.get().toString();
  }

  /** curl to the http listener on {@code port} for {@code host}: headers, body, then the status. */
  private static String get(int port, String host, String path) {
    return getFrom("127.0.0.1", port, host, path);
  }

  /** As {@link #get}, from the loopback address {@code from} (curl binds its socket there). */
  private static String getFrom(String from, int port, String host, String path) {
    ProcessResult r =
        CommandLineTools.run(
            TOOL_TIMEOUT,
            List.of(
                curl(),
                "-sS",
                "--interface",
                from,
                "--max-time",
                "15",
                "-D",
                "-",
                "--resolve",
                host + ":" + port + ":127.0.0.1",
                "-w",
                "\nstatus=%{http_code}\n",
                "http://" + host + ":" + port + path));
    assertThat(r.ok()).as("%s", r).isTrue();
    return r.stdout();
  }

  private static long closed(CloseReason reason) {
    return tollgate.metrics().closedCount(reason);
  }

  private static void awaitClosed(CloseReason reason, long atLeast) throws InterruptedException {
    TollgateFixture.await(
        () -> closed(reason) >= atLeast,
        Duration.ofSeconds(10),
        () -> reason.label() + " (all closes: " + tollgate.metrics().closedByReason() + ")");
  }

  /** The listener port in each relayed head's PROXY header, in arrival order. */
  private static List<Integer> listenerPorts(PlainHttpResponder origin) {
    return origin.headTexts().stream()
        .map(
            head -> {
              Matcher m = PROXY_V1.matcher(head);
              assertThat(m.find()).as(head).isTrue();
              return Integer.parseInt(m.group(2));
            })
        .toList();
  }

  @Test
  void aRouteRestrictedToAnotherListenerIsNotServedOnThisHttpListener() throws Exception {
    int before = originA.heads().size();
    assertThat(get(webA, "tenant-a.test", "/own"))
        .contains("hello from tenant-a over plaintext: PROXY TCP4 ")
        .endsWith("status=200\n");

    long noRoute = closed(CloseReason.NO_ROUTE);
    // On a listener without a default of its own, under default-route = reject: an unknown name.
    assertThat(get(webShared, "tenant-a.test", "/elsewhere"))
        .startsWith("HTTP/1.1 421 Misdirected Request\r\n")
        .endsWith("status=421\n");
    assertThat(get(webA, "tenant-b.test", "/elsewhere"))
        .startsWith("HTTP/1.1 421 Misdirected Request\r\n");
    awaitClosed(CloseReason.NO_ROUTE, noRoute + 2);

    assertThat(originA.heads()).hasSize(before + 1);
    assertThat(listenerPorts(originA)).containsOnly(webA);
  }

  @Test
  void anExactRouteRestrictedElsewhereFallsThroughToTheWildcardHere() throws Exception {
    int before = originA.heads().size();
    assertThat(get(webA, "www.shared.test", "/exact"))
        .contains("hello from tenant-a over plaintext: PROXY TCP4 ");
    long rejected = closed(CloseReason.HTTP_REJECTED);
    // *.shared.test (http = reject) is what applies to www.shared.test on the other listeners.
    assertThat(get(webShared, "www.shared.test", "/wild")).startsWith("HTTP/1.1 403 Forbidden\r\n");
    assertThat(get(webB, "www.shared.test", "/wild")).startsWith("HTTP/1.1 403 Forbidden\r\n");
    awaitClosed(CloseReason.HTTP_REJECTED, rejected + 2);
    assertThat(originA.heads()).hasSize(before + 1);
  }

  @Test
  void aListenersOwnDefaultRouteTakesUnknownHostsOnItsHttpListener() throws Exception {
    long redirected = closed(CloseReason.HTTP_REDIRECTED);
    // web-b's default route has no http-pool: the listener's http (redirect-https) answers.
    assertThat(get(webB, "nobody.test", "/x?y=1"))
        .startsWith("HTTP/1.1 301 Moved Permanently\r\n")
        .contains("\r\nLocation: https://nobody.test/x?y=1\r\n");
    awaitClosed(CloseReason.HTTP_REDIRECTED, redirected + 1);
    // Without a Host (HTTP/1.0) the default route takes it too, and there is no name to redirect
    // to; under the top-level default-route = reject it would be 421.
    assertThat(exchange(webB, "GET / HTTP/1.0\r\n\r\n")).startsWith("HTTP/1.1 400 Bad Request\r\n");
    // The other http listeners keep the top-level default-route = reject.
    assertThat(get(webShared, "nobody.test", "/x")).startsWith("HTTP/1.1 421 ");
    assertThat(exchange(webA, "GET / HTTP/1.0\r\n\r\n"))
        .startsWith("HTTP/1.1 421 Misdirected Request\r\n");
  }

  @Test
  void tenantAsRouteIsNeverReachedThroughTenantBsHttpPort() throws Exception {
    int beforeA = originA.heads().size();
    int beforeB = originB.heads().size();
    long redirected = closed(CloseReason.HTTP_REDIRECTED);
    for (int i = 0; i < 3; i++) {
      assertThat(get(webA, "tenant-a.test", "/a" + i)).contains("hello from tenant-a");
      // Tenant A's name on tenant B's port is tenant B's default: never tenant A's pool.
      assertThat(get(webB, "tenant-a.test", "/a" + i))
          .startsWith("HTTP/1.1 301 Moved Permanently\r\n")
          .doesNotContain("tenant-a over plaintext");
      assertThat(get(webB, "tenant-b.test", "/b" + i)).contains("hello from tenant-b");
      // And the other way: tenant B's name on tenant A's port.
      assertThat(get(webA, "tenant-b.test", "/b" + i)).startsWith("HTTP/1.1 421 ");
    }
    awaitClosed(CloseReason.HTTP_REDIRECTED, redirected + 3);
    assertThat(originA.heads()).hasSize(beforeA + 3);
    assertThat(originB.heads()).hasSize(beforeB + 3);
    assertThat(listenerPorts(originA)).containsOnly(webA);
    assertThat(listenerPorts(originB)).containsOnly(webB);
  }

  @Test
  void aRoutesAllowListRefusesOtherClientsWith403AndNeverRelaysThem() throws Exception {
    int before = originGuarded.heads().size();
    long denied = closed(CloseReason.DENIED);
    // On every http listener the route applies on, and before its http-pool is contacted.
    for (int port : new int[] {webA, webB, webShared}) {
      assertThat(get(port, "guarded.test", "/in"))
          .startsWith("HTTP/1.1 403 Forbidden\r\n")
          .doesNotContain("tenant-g")
          .endsWith("status=403\n");
    }
    awaitClosed(CloseReason.DENIED, denied + 3);
    assertThat(originGuarded.heads()).hasSize(before);
    assertThat(awaitAccessLogLine("web-a", "guarded.test", "denied"))
        .containsEntry("client", "127.0.0.1")
        .hasEntrySatisfying(
            "detail", d -> assertThat(d.toString()).contains("not allowed on route guarded.test"));

    // The client it allows is relayed to the pool, whose PROXY header names that client.
    assertThat(getFrom("127.0.0.2", webA, "guarded.test", "/in"))
        .contains("hello from tenant-g over plaintext: PROXY TCP4 127.0.0.2 127.0.0.1 ")
        .endsWith("status=200\n");
    assertThat(originGuarded.heads()).hasSize(before + 1);
  }

  @Test
  void aRoutesDenyListAppliesBeforeItsHttpAction() throws Exception {
    long denied = closed(CloseReason.DENIED);
    long redirected = closed(CloseReason.HTTP_REDIRECTED);
    assertThat(getFrom("127.0.0.2", webA, "closed.test", "/x"))
        .startsWith("HTTP/1.1 403 Forbidden\r\n")
        .doesNotContain("Location:");
    awaitClosed(CloseReason.DENIED, denied + 1);
    assertThat(closed(CloseReason.HTTP_REDIRECTED)).isEqualTo(redirected);
  }

  @Test
  void aListenersDefaultRouteAllowListHoldsOnItsHttpListener() throws Exception {
    long denied = closed(CloseReason.DENIED);
    assertThat(get(webGuarded, "anything.test", "/x")).startsWith("HTTP/1.1 403 Forbidden\r\n");
    awaitClosed(CloseReason.DENIED, denied + 1);
    // The client the default route allows gets the listener's http action (redirect-https).
    assertThat(getFrom("127.0.0.2", webGuarded, "anything.test", "/x"))
        .startsWith("HTTP/1.1 301 Moved Permanently\r\n")
        .contains("\r\nLocation: https://anything.test/x\r\n");
  }

  @Test
  void aRoutesRulesApplyToTheClientAProxyHeaderNamesOnAnHttpListener() throws Exception {
    int before = originGuarded.heads().size();
    long denied = closed(CloseReason.DENIED);
    // The socket's peer is 127.0.0.1 either way; the header's client decides.
    String request = "GET /p HTTP/1.1\r\nHost: guarded.test\r\nConnection: close\r\n\r\n";
    assertThat(exchange(webProxied, "PROXY TCP4 127.0.0.2 127.0.0.1 4000 80\r\n" + request))
        .contains("hello from tenant-g over plaintext: PROXY TCP4 127.0.0.2 127.0.0.1 4000 ");
    assertThat(exchange(webProxied, "PROXY TCP4 127.0.0.3 127.0.0.1 4001 80\r\n" + request))
        .startsWith("HTTP/1.1 403 Forbidden\r\n")
        .doesNotContain("tenant-g");
    awaitClosed(CloseReason.DENIED, denied + 1);
    assertThat(awaitAccessLogLine("web-proxied", "guarded.test", "denied"))
        .containsEntry("client", "127.0.0.3");
    assertThat(originGuarded.heads()).hasSize(before + 1);
  }

  /** The first access log line on {@code listener} for {@code host} closed with {@code reason}. */
  private static Map<String, Object> awaitAccessLogLine(String listener, String host, String reason)
      throws InterruptedException {
    Path file = dir.resolve("access.log");
    AtomicReference<Map<String, Object>> found = new AtomicReference<>();
    TollgateFixture.await(
        () -> {
          try {
            for (Map<String, Object> line : AccessLogFile.lines(file)) {
              if (listener.equals(line.get("listener"))
                  && host.equals(line.get("sni"))
                  && reason.equals(line.get("reason"))) {
                found.set(line);
                return true;
              }
            }
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
          return false;
        },
        Duration.ofSeconds(10),
        () -> "an access log line on " + listener + " for " + host + " with reason " + reason);
    return found.get();
  }

  /** One request on a new connection, half-closed after it; all Tollgate sent until it closed. */
  private static String exchange(int port, String request) throws Exception {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
      s.getOutputStream().flush();
      s.shutdownOutput();
      ByteArrayOutputStream got = new ByteArrayOutputStream();
      s.getInputStream().transferTo(got);
      return got.toString(StandardCharsets.ISO_8859_1);
    }
  }
}
