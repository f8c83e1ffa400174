package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tollgate.Tollgate;
import io.tollgate.admin.AdminServer;
import io.tollgate.cli.TollgateCli;
import io.tollgate.config.ConfigLoader;
import io.tollgate.ops.Operations;
import io.tollgate.testkit.CommandLineTools;
import io.tollgate.testkit.TlsTestServer;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The admin endpoint over real HTTP (JDK HttpClient, curl, raw sockets for what those will not
 * send): status, metrics, drain and enable, reload; the bearer token on every request; without one,
 * loopback Host names only and the admin header on POSTs; bounded requests and slow clients; and
 * {@code tollgate reload} talking to it.
 */
@Timeout(60)
class AdminEndpointTest {
  private static final String TOKEN = "s3cret-token";
  private String token;
  @TempDir Path dir;
  private final List<TlsTestServer> servers = new ArrayList<>();
  private Tollgate tollgate;
  private Operations ops;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @AfterEach
  void tearDown() {
    if (ops != null) {
      ops.close();
    }
    if (tollgate != null) {
      tollgate.close();
    }
    servers.forEach(TlsTestServer::close);
  }

  private Path start(boolean withToken) throws Exception {
    TlsTestServer a = TlsTestServer.startPlain(TlsTestServer.greet("a"));
    TlsTestServer b = TlsTestServer.startPlain(TlsTestServer.greet("b"));
    servers.add(a);
    servers.add(b);
    Files.writeString(dir.resolve("admin.token"), TOKEN + "\n");
    Path file = dir.resolve("tollgate.conf");
    Files.writeString(
        file,
        String.format(
            """
        tollgate {
          listeners = [ { name = main, address = "127.0.0.1:0" } ]
          admin { address = "127.0.0.1:0" %s }
          routes = [ { hosts = ["web.test"], pool = web } ]
          pools {
            web { servers = ["127.0.0.1:%d", "127.0.0.1:%d"] }
            Blue { servers = ["127.0.0.1:%d"] }
          }
        }
        """,
            withToken ? ", token-file = \"admin.token\"" : "", a.port(), b.port(), a.port()));
    token = withToken ? TOKEN : null;
    tollgate = Tollgate.start(ConfigLoader.load(file));
    ops = Operations.start(file, ConfigLoader.load(file), tollgate, null, AdminServer::start);
    return file;
  }

  private String base() {
    return "http://127.0.0.1:" + ops.admin().address().getPort();
  }

  /** A GET as an operator sends it: with the token when the endpoint has one. */
  private HttpResponse<String> get(String path) throws Exception {
    return get(path, token);
  }

  private HttpResponse<String> get(String path, String bearer) throws Exception {
    HttpRequest.Builder r =
        HttpRequest.newBuilder(URI.create(base() + path)).GET().timeout(Duration.ofSeconds(30));
    if (bearer != null) {
      r.header("Authorization", "Bearer " + bearer);
    }
    return http.send(r.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** A POST as {@code tollgate reload} sends it: with the admin header, and the given token. */
  private HttpResponse<String> post(String path, String bearer) throws Exception {
    HttpRequest.Builder r =
        HttpRequest.newBuilder(URI.create(base() + path))
            .header(AdminServer.CSRF_HEADER, "1")
            .timeout(Duration.ofSeconds(30))
            .POST(HttpRequest.BodyPublishers.noBody());
    if (bearer != null) {
      r.header("Authorization", "Bearer " + bearer);
    }
    return http.send(r.build(), HttpResponse.BodyHandlers.ofString());
  }

  private int adminPort() {
    return ops.admin().address().getPort();
  }

  /**
   * Sends {@code request} as raw bytes on a new connection and returns all the endpoint writes
   * until it closes (for requests the JDK client will not send: other Host headers, malformed or
   * over-long ones).
   */
  private String raw(String request) throws Exception {
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), adminPort())) {
      s.setSoTimeout(20_000);
      s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
      s.getOutputStream().flush();
      return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
    }
  }

  private static String rawGet(String path, String host) {
    return "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n";
  }

  @Test
  void statusDescribesListenersRoutesPoolsAndServers() throws Exception {
    start(true);
    HttpResponse<String> r = get("/status");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type")).contains("application/json; charset=utf-8");
    String port = Integer.toString(servers.get(0).port());
    assertThat(r.body())
        .contains("\"version\":1", "\"loaded_at\":\"", "\"shutting_down\":false")
        .contains(
            "\"listeners\":[{\"name\":\"main\",\"address\":\"127.0.0.1:"
                + tollgate.address("main").getPort()
                + "\"}]")
        .contains(
            "\"routes\":[{\"name\":\"web.test\",\"hosts\":[\"web.test\"],"
                + "\"mode\":\"passthrough\",\"pool\":\"web\"}]")
        .contains("\"default_route\":\"reject\"")
        .contains(
            "{\"address\":\"127.0.0.1:"
                + port
                + "\",\"resolved\":\"127.0.0.1:"
                + port
                + "\",\"weight\":1,\"max_connections\":0,\"health\":\"up\"")
        .contains("\"draining\":false,\"active_connections\":0");
  }

  @Test
  void metricsAreServedInPrometheusTextFormat() throws Exception {
    start(false);
    try (Socket s =
        new Socket(InetAddress.getLoopbackAddress(), tollgate.address("main").getPort())) {
      s.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      s.getInputStream().read(); // closed as not_tls
    } catch (java.io.IOException expected) {
      // reset or closed: either way the connection was counted
    }
    TollgateFixture.await(
        () -> tollgate.metrics().closedCount(io.tollgate.connection.CloseReason.NOT_TLS) == 1,
        Duration.ofSeconds(5));
    HttpResponse<String> r = get("/metrics");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type").orElseThrow())
        .startsWith("text/plain; version=0.0.4");
    assertThat(r.body())
        .contains("# TYPE tollgate_connections_accepted_total counter")
        .contains("tollgate_connections_accepted_total{listener=\"main\"} 1.0")
        .contains("tollgate_connections_closed_total{reason=\"not_tls\"} 1.0");
  }

  @Test
  void withATokenFileEveryRequestNeedsTheTokenReadsIncluded() throws Exception {
    start(true);
    for (String path : List.of("/status", "/metrics", "/nothing")) {
      HttpResponse<String> none = get(path, null);
      assertThat(none.statusCode()).as(path).isEqualTo(401);
      assertThat(none.headers().firstValue("WWW-Authenticate"))
          .contains("Bearer realm=\"tollgate\"");
      assertThat(none.body())
          .as(path)
          .contains("Authorization: Bearer <token>")
          .doesNotContain("127.0.0.1:" + servers.get(0).port());
      assertThat(get(path, "nope").statusCode()).as(path).isEqualTo(401);
      assertThat(get(path, TOKEN + "x").statusCode()).as(path).isEqualTo(401);
      assertThat(get(path, TOKEN.substring(1)).statusCode()).as(path).isEqualTo(401);
    }
    assertThat(get("/status", TOKEN).statusCode()).isEqualTo(200);
    assertThat(get("/metrics", TOKEN).statusCode()).isEqualTo(200);
    assertThat(get("/nothing", TOKEN).statusCode()).isEqualTo(404);
    // With a token the Host header does not matter (the endpoint may sit on a management name),
    // and POSTs need no other header.
    String auth = "Authorization: Bearer " + TOKEN + "\r\n";
    assertThat(
            raw("GET /status HTTP/1.1\r\nHost: tollgate-7.mgmt.example:9900\r\n" + auth + "\r\n"))
        .startsWith("HTTP/1.1 200 ");
    assertThat(raw("GET /status HTTP/1.1\r\nHost: tollgate-7.mgmt.example:9900\r\n\r\n"))
        .startsWith("HTTP/1.1 401 ");
    assertThat(
            raw(
                "POST /reload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n"
                    + auth
                    + "\r\n"))
        .startsWith("HTTP/1.1 200 ");
    // The token is the file's UTF-8 bytes, as curl sends them.
    Files.writeString(dir.resolve("admin.token"), "gr\u00fc\u00dfe-\u20ac\n");
    byte[] request =
        ("GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
                + "gr\u00fc\u00dfe-\u20ac\r\n\r\n")
            .getBytes(StandardCharsets.UTF_8);
    assertThat(raw(new String(request, StandardCharsets.ISO_8859_1))).startsWith("HTTP/1.1 200 ");
    assertThat(
            raw(
                rawGet("/status", "127.0.0.1")
                    .replace(
                        "\r\n\r\n", "\r\nAuthorization: Bearer gr\u00fc\u00dfe-\u20ac\r\n\r\n")))
        .startsWith("HTTP/1.1 401 ");
  }

  @Test
  void readyAndLiveNeedNoTokenAndTellNothingButTheState() throws Exception {
    start(true);
    // As a load balancer's health check sends them: no Authorization header.
    HttpResponse<String> ready = get("/ready", null);
    assertThat(ready.statusCode()).isEqualTo(200);
    assertThat(ready.body()).isEqualTo("{\"ready\":true}\n");
    HttpResponse<String> live = get("/live", null);
    assertThat(live.statusCode()).isEqualTo(200);
    assertThat(live.body()).isEqualTo("{\"live\":true}\n");
    assertThat(raw("HEAD /ready HTTP/1.1\r\nHost: 10.0.0.7:9900\r\n\r\n"))
        .startsWith("HTTP/1.1 200 ")
        .endsWith("\r\n\r\n");
    assertThat(raw(rawGet("/ready/?probe=1", "lb.example"))).startsWith("HTTP/1.1 200 ");
    // Everything else still needs the token, near names included.
    assertThat(get("/status", null).statusCode()).isEqualTo(401);
    assertThat(get("/readyz", null).statusCode()).isEqualTo(401);
    assertThat(get("/ready/x", null).statusCode()).isEqualTo(401);
    assertThat(post("/ready", null).statusCode()).isEqualTo(405);

    // An upgrade (or a stop) withdraws it; an upgrade that failed restores it.
    tollgate.readiness().withdraw("upgrade");
    HttpResponse<String> withdrawn = get("/ready", null);
    assertThat(withdrawn.statusCode()).isEqualTo(503);
    assertThat(withdrawn.body()).isEqualTo("{\"ready\":false}\n");
    assertThat(get("/live", null).statusCode()).isEqualTo(200);
    assertThat(get("/status", TOKEN).body()).contains("\"ready\":false");
    assertThat(tollgate.readiness().restore()).isTrue();
    assertThat(get("/ready", null).statusCode()).isEqualTo(200);
    assertThat(get("/status", TOKEN).body()).contains("\"ready\":true");
  }

  @Test
  void withoutATokenReadyAndLiveAnswerAnyHostButStatusDoesNot() throws Exception {
    start(false);
    assertThat(raw(rawGet("/ready", "attacker.example"))).startsWith("HTTP/1.1 200 ");
    assertThat(raw(rawGet("/live", "attacker.example"))).startsWith("HTTP/1.1 200 ");
    assertThat(raw(rawGet("/status", "attacker.example"))).startsWith("HTTP/1.1 421 ");
  }

  @Test
  void prometheusAndCurlScrapeWithTheBearerToken() throws Exception {
    start(true);
    assumeTrue(CommandLineTools.which("curl").isPresent(), "curl is not installed");
    // What the README tells a user to run; Prometheus' `authorization: { credentials_file }`
    // sends the same header.
    String url = base() + "/metrics";
    CommandLineTools.ProcessResult ok =
        CommandLineTools.run(
            Duration.ofSeconds(30),
            "curl",
            "-sS",
            "-f",
            "-H",
            "Authorization: Bearer " + Files.readString(dir.resolve("admin.token")).strip(),
            url);
    assertThat(ok.ok()).as(ok.toString()).isTrue();
    assertThat(ok.stdout()).contains("# TYPE tollgate_connections_accepted_total counter");
    CommandLineTools.ProcessResult refused =
        CommandLineTools.run(
            Duration.ofSeconds(30), "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", url);
    assertThat(refused.stdout()).isEqualTo("401");
  }

  @Test
  void mutatingRequestsNeedTheBearerToken() throws Exception {
    start(true);
    String drain = "/pools/web/servers/127.0.0.1:" + servers.get(0).port() + "/drain";
    assertThat(post(drain, null).statusCode()).isEqualTo(401);
    HttpResponse<String> wrong = post(drain, "nope");
    assertThat(wrong.statusCode()).isEqualTo(401);
    assertThat(wrong.headers().firstValue("WWW-Authenticate")).isPresent();
    assertThat(post("/reload", "s3cret-tokeN").statusCode()).isEqualTo(401);
    assertThat(post("/upgrade", "nope").statusCode()).isEqualTo(401);
    assertThat(tollgate.snapshot().pools().get("web").servers().get(0).state().isDraining())
        .isFalse();
    assertThat(tollgate.configVersion()).isEqualTo(1);

    HttpResponse<String> ok = post(drain, TOKEN);
    assertThat(ok.statusCode()).isEqualTo(200);
    assertThat(ok.body()).contains("\"draining\":true");
    assertThat(post("/reload", TOKEN).statusCode()).isEqualTo(200);
    // A rotated token applies at once: the file is read per request.
    Files.writeString(dir.resolve("admin.token"), "rotated\n");
    assertThat(post("/reload", TOKEN).statusCode()).isEqualTo(401);
    assertThat(post("/reload", "rotated").statusCode()).isEqualTo(200);
  }

  @Test
  void drainSendsNewConnectionsElsewhereAndEnableBringsTheServerBack() throws Exception {
    start(false);
    String server = "127.0.0.1:" + servers.get(0).port();
    HttpResponse<String> r = post("/pools/web/servers/" + server + "/drain", null);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(get("/status").body())
        .contains("\"address\":\"" + server + "\"")
        .containsPattern(
            "\"address\":\"" + server.replace(".", "\\.") + "\"[^}]*\"draining\":true");
    for (int i = 0; i < 6; i++) {
      assertThat(greeting()).isEqualTo("b");
    }
    assertThat(post("/pools/web/servers/" + server + "/enable", null).statusCode()).isEqualTo(200);
    List<String> seen = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      seen.add(greeting());
    }
    assertThat(seen).contains("a", "b");

    assertThat(post("/pools/nope/servers/" + server + "/drain", null).statusCode()).isEqualTo(404);
    assertThat(post("/pools/web/servers/10.9.9.9:1/drain", null).body()).contains("has no server");
    assertThat(get("/pools/web/servers/" + server + "/drain").statusCode()).isEqualTo(405);
    assertThat(get("/reload").statusCode()).isEqualTo(405);
    assertThat(get("/nothing").statusCode()).isEqualTo(404);
  }

  private String greeting() throws Exception {
    // A plaintext backend behind passthrough: send a real ClientHello, read the greeting that
    // the backend writes before any TLS.
    try (Socket s =
        new Socket(InetAddress.getLoopbackAddress(), tollgate.address("main").getPort())) {
      s.setSoTimeout(5000);
      s.getOutputStream().write(JdkClientHello.forName("web.test", List.of()));
      byte[] buf = new byte[1];
      return new String(buf, 0, s.getInputStream().read(buf), StandardCharsets.US_ASCII);
    }
  }

  @Test
  void reloadReportsSuccessAndErrorsAndTheReloadCommandUsesIt() throws Exception {
    Path file = start(true);
    HttpResponse<String> r = post("/reload", TOKEN);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("{\"ok\":true,\"version\":2,\"errors\":[]}\n");

    String good = Files.readString(file);
    // The reload command reads the admin address from the file: write the port bound now (an
    // admin address change itself only applies at the next start).
    String withPort =
        good.replace(
            "address = \"127.0.0.1:0\" ,",
            "address = \"127.0.0.1:" + ops.admin().address().getPort() + "\" ,");
    assertThat(withPort).isNotEqualTo(good);
    Files.writeString(file, withPort);
    String[] out = cli("reload", "--config", file.toString());
    assertThat(out[0]).isEqualTo("0");
    assertThat(out[1]).contains("reloaded: {\"ok\":true,\"version\":3");

    Files.writeString(file, withPort.replace("pool = web", "pool = wbe"));
    r = post("/reload", TOKEN);
    assertThat(r.statusCode()).isEqualTo(422);
    assertThat(r.body())
        .contains("\"ok\":false,\"version\":3")
        .contains("tollgate.routes[0].pool: no pool named \\\"wbe\\\"");
    assertThat(get("/status").body())
        .contains("\"reloads_failed\":1")
        .contains("\"last_reload_errors\":[\"" + file);
    // The command checks the file first and sends nothing when it is broken.
    out = cli("reload", "--config", file.toString());
    assertThat(out[0]).isEqualTo("1");
    assertThat(out[2]).contains("no pool named \"wbe\"").contains("not reloading");
    assertThat(tollgate.configVersion()).isEqualTo(3);
  }

  @Test
  void withoutATokenOnlyLoopbackHostNamesAreAnswered() throws Exception {
    start(false);
    int port = adminPort();
    for (String host :
        List.of(
            "127.0.0.1:" + port,
            "127.0.0.1",
            "localhost:" + port,
            "LocalHost",
            "127.1.2.3:" + port,
            "[::1]:" + port,
            "[::1]",
            "[0:0:0:0:0:0:0:1]")) {
      assertThat(raw(rawGet("/status", host))).as(host).startsWith("HTTP/1.1 200 ");
    }
    // A page on attacker.example whose name a DNS rebinding points at 127.0.0.1: the browser
    // sends its own name as Host.
    for (String host :
        List.of(
            "attacker.example:" + port,
            "attacker.example",
            "127.0.0.1.nip.io",
            "localhost.attacker.example",
            "sub.localhost",
            "10.0.0.1:" + port,
            "[::2]:" + port,
            "127.0.0.1:" + port + "@evil",
            "127.0.0.1:99999x",
            "[::1",
            "")) {
      String answer = raw(rawGet("/status", host));
      assertThat(answer)
          .as(host)
          .startsWith("HTTP/1.1 421 ")
          .contains("is not this endpoint")
          .doesNotContain("\"pools\"");
    }
    assertThat(raw(rawGet("/metrics", "attacker.example"))).startsWith("HTTP/1.1 421 ");
    assertThat(raw("GET /status HTTP/1.1\r\n\r\n"))
        .startsWith("HTTP/1.1 400 ")
        .contains("needs a Host header");
    assertThat(raw("GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: attacker.example\r\n\r\n"))
        .startsWith("HTTP/1.1 400 ");
    assertThat(raw("GET /status HTTP/1.0\r\n\r\n")).startsWith("HTTP/1.1 200 ");
    String head = raw("HEAD /status HTTP/1.1\r\nHost: localhost\r\n\r\n");
    assertThat(head)
        .startsWith("HTTP/1.1 200 ")
        .containsIgnoringCase("content-length: ")
        .doesNotContainIgnoringCase("content-length: 0\r\n")
        .endsWith("\r\n\r\n");
  }

  @Test
  void withoutATokenPostsNeedTheAdminHeader() throws Exception {
    Path file = start(false);
    String drain = "/pools/web/servers/127.0.0.1:" + servers.get(0).port() + "/drain";
    // What a page in a browser on the node can send cross-origin without a preflight.
    String form =
        "POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nOrigin: http://attacker.example\r\n"
            + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 3\r\n\r\na=b";
    for (String path : List.of("/reload", "/upgrade", drain)) {
      String answer = raw(String.format(form, path, adminPort()));
      assertThat(answer)
          .as(path)
          .startsWith("HTTP/1.1 403 ")
          .contains("needs the header \\\"X-Tollgate-Admin: 1\\\"");
    }
    HttpResponse<String> jdk =
        http.send(
            HttpRequest.newBuilder(URI.create(base() + "/reload"))
                .POST(HttpRequest.BodyPublishers.noBody())
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(jdk.statusCode()).isEqualTo(403);
    assertThat(
            raw(
                "OPTIONS /reload HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://a.example\r\n"
                    + "Access-Control-Request-Method: POST\r\n\r\n"))
        .startsWith("HTTP/1.1 403 ")
        .doesNotContainIgnoringCase("Access-Control-Allow");
    assertThat(tollgate.configVersion()).isEqualTo(1);
    assertThat(tollgate.snapshot().pools().get("web").servers().get(0).state().isDraining())
        .isFalse();

    assertThat(post(drain, null).statusCode()).isEqualTo(200);
    assertThat(post("/reload", null).statusCode()).isEqualTo(200);
    // Let through, but this Tollgate was not started by `run`: nothing to start a successor with.
    HttpResponse<String> upgrade = post("/upgrade", null);
    assertThat(upgrade.statusCode()).isEqualTo(501);
    assertThat(upgrade.body()).contains("cannot be upgraded in place");
    // tollgate reload sends the header.
    String withPort =
        Files.readString(file)
            .replace(
                "admin { address = \"127.0.0.1:0\"",
                "admin { address = \"127.0.0.1:" + adminPort() + "\"");
    assertThat(withPort).isNotEqualTo(Files.readString(file));
    Files.writeString(file, withPort);
    String[] out = cli("reload", "--config", file.toString());
    assertThat(out[0]).as(out[2]).isEqualTo("0");
    assertThat(out[1]).contains("reloaded: {\"ok\":true,\"version\":3");
  }

  @Test
  void poolNamesMatchExactlyAsConfigured() throws Exception {
    start(false);
    String server = "/servers/127.0.0.1:" + servers.get(0).port() + "/drain";
    for (String pool :
        List.of(
            "WEB", "Web", "we", "web2", "web%20", "%20web", "web.", "blue", "BLUE", "Blu",
            "Blue%00", "w%2Fb")) {
      HttpResponse<String> r = post("/pools/" + pool + server, null);
      assertThat(r.statusCode()).as(pool).isEqualTo(404);
      assertThat(r.body()).as(pool).contains("no pool named");
    }
    assertThat(
            tollgate.snapshot().pools().values().stream()
                .flatMap(p -> p.servers().stream())
                .noneMatch(b -> b.state().isDraining()))
        .isTrue();
    // Percent-decoding is per segment, strict UTF-8; a bad escape is a 400, not a guess.
    assertThat(
            raw(
                "POST /pools/w%zzb"
                    + server
                    + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "X-Tollgate-Admin: 1\r\n\r\n"))
        .startsWith("HTTP/1.1 400 ")
        .contains("percent-encoding");
    assertThat(post("/pools/w%C3" + server, null).statusCode()).isEqualTo(400);
    // The exact names work, also percent-encoded, and a capitalised name is not folded.
    assertThat(post("/pools/Blue" + server, null).body())
        .contains("\"pool\":\"Blue\"", "\"draining\":true");
    assertThat(post("/pools/%77eb" + server, null).body())
        .contains("\"pool\":\"web\"", "\"draining\":true");
  }

  @Test
  void requestLineHeadersAndBodyAreBounded() throws Exception {
    start(false);
    String longLine = raw("GET /" + "a".repeat(9000) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    assertThat(longLine).startsWith("HTTP/1.1 414 ").contains("request line longer than 8192");
    String longHeaders =
        raw(
            "GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "X-Filler: 0123456789abcdef\r\n".repeat(400)
                + "\r\n");
    assertThat(longHeaders).startsWith("HTTP/1.1 431 ").contains("headers longer than 8192");
    String bigBody =
        raw(
            "POST /reload HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Tollgate-Admin: 1\r\n"
                + "Content-Length: 70000\r\n\r\n"
                + "x".repeat(70000));
    assertThat(bigBody).startsWith("HTTP/1.1 413 ").contains("larger than 65536");
    String bigChunked =
        raw(
            "POST /reload HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Tollgate-Admin: 1\r\n"
                + "Transfer-Encoding: chunked\r\n\r\n"
                + ("8000\r\n" + "y".repeat(0x8000) + "\r\n").repeat(3)
                + "0\r\n\r\n");
    assertThat(bigChunked).startsWith("HTTP/1.1 413 ");
    assertThat(raw("GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nBad\u0001Name: x\r\n\r\n"))
        .startsWith("HTTP/1.1 400 ")
        .contains("malformed HTTP request");
    assertThat(tollgate.configVersion()).isEqualTo(1);
    // A pipelined second request is not answered: one request per connection.
    String two =
        raw(
            rawGet("/status", "127.0.0.1").replace("Connection: close\r\n", "")
                + rawGet("/metrics", "127.0.0.1"));
    assertThat(two).startsWith("HTTP/1.1 200 ").doesNotContain("# TYPE");
    assertThat(two.split("HTTP/1.1 ", -1)).hasSize(2);
  }

  @Test
  void slowClientsCannotHoldTheEndpoint() throws Exception {
    start(false);
    List<Socket> slow = new ArrayList<>();
    try {
      // More half-sent requests than the endpoint has worker threads, in every stage: nothing
      // sent, a partial request line, headers without their end, a body short of its length.
      String[] partial = {
        "",
        "GET /sta",
        "GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: b",
        "POST /reload HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Tollgate-Admin: 1\r\n"
            + "Content-Length: 10\r\n\r\nabc"
      };
      for (int i = 0; i < 8; i++) {
        Socket s = new Socket(InetAddress.getLoopbackAddress(), adminPort());
        slow.add(s);
        s.setSoTimeout(30_000);
        s.getOutputStream().write(partial[i % partial.length].getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
      }
      // A whole request is answered meanwhile (bounded by the client's timeout: against the JDK
      // HttpServer endpoint this never answered, both of its threads stuck reading headers).
      HttpResponse<String> status = get("/status");
      assertThat(status.statusCode()).isEqualTo(200);
      assertThat(tollgate.configVersion()).isEqualTo(1);
      // Each slow client gets a 408 and the connection ends (read to EOF, bounded by SO_TIMEOUT).
      for (Socket s : slow) {
        String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        assertThat(answer).startsWith("HTTP/1.1 408 ").contains("no complete request within 5s");
      }
      assertThat(tollgate.configVersion()).isEqualTo(1);
    } finally {
      for (Socket s : slow) {
        s.close();
      }
    }
  }

  @Test
  void connectionsBeyondTheCapAreClosedAtAcceptAndTheEndpointRecovers() throws Exception {
    start(false);
    List<Socket> idle = new ArrayList<>();
    try {
      for (int i = 0; i < 64; i++) {
        Socket s = new Socket(InetAddress.getLoopbackAddress(), adminPort());
        s.setSoTimeout(30_000);
        idle.add(s);
      }
      try (Socket over = new Socket(InetAddress.getLoopbackAddress(), adminPort())) {
        over.setSoTimeout(30_000);
        over.getOutputStream()
            .write(rawGet("/status", "127.0.0.1").getBytes(StandardCharsets.US_ASCII));
        byte[] answer;
        try {
          answer = over.getInputStream().readAllBytes();
        } catch (java.net.SocketException reset) {
          answer = new byte[0];
        }
        // Closed unanswered: not a 408 after the timeout, not a 200.
        assertThat(new String(answer, StandardCharsets.ISO_8859_1)).isEmpty();
      }
      for (Socket s : idle) {
        assertThat(new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1))
            .startsWith("HTTP/1.1 408 ");
      }
      // The endpoint counts a connection gone once its close completed on the admin loop, which
      // can be just after the client read the end of the 408: recovery is awaited, bounded.
      TollgateFixture.await(
          () -> {
            try {
              return get("/status").statusCode() == 200;
            } catch (IOException refusedWhileStillFull) {
              return false;
            } catch (Exception e) {
              throw new IllegalStateException(e);
            }
          },
          Duration.ofSeconds(10),
          () -> "GET /status answered 200 after the idle connections were closed");
    } finally {
      for (Socket s : idle) {
        s.close();
      }
    }
  }

  private static String[] cli(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cmd = TollgateCli.commandLine();
    cmd.setOut(new PrintWriter(out));
    cmd.setErr(new PrintWriter(err));
    int exit = cmd.execute(args);
    return new String[] {Integer.toString(exit), out.toString(), err.toString()};
  }
}
