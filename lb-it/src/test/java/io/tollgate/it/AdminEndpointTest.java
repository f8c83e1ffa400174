package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.Tollgate;
import io.tollgate.cli.TollgateCli;
import io.tollgate.config.ConfigLoader;
import io.tollgate.ops.Operations;
import io.tollgate.testkit.TlsTestServer;
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
 * The admin endpoint over real HTTP (JDK HttpClient): status, metrics, drain and enable, reload,
 * and the bearer token on every POST; and {@code tollgate reload} talking to it.
 */
@Timeout(60)
class AdminEndpointTest {
  private static final String TOKEN = "s3cret-token";
  @TempDir Path dir;
  private final List<TlsTestServer> servers = new ArrayList<>();
  private Tollgate tollgate;
  private Operations ops;
  private final HttpClient http = HttpClient.newBuilder()
      .connectTimeout(Duration.ofSeconds(5)).build();

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
    Files.writeString(file, String.format("""
        tollgate {
          listeners = [ { name = main, address = "127.0.0.1:0" } ]
          admin { address = "127.0.0.1:0" %s }
          routes = [ { hosts = ["web.test"], pool = web } ]
          pools { web { servers = ["127.0.0.1:%d", "127.0.0.1:%d"] } }
        }
        """, withToken ? ", token-file = \"admin.token\"" : "", a.port(), b.port()));
    tollgate = Tollgate.start(ConfigLoader.load(file));
    ops = Operations.start(file, ConfigLoader.load(file), tollgate, null);
    return file;
  }

  private String base() {
    return "http://127.0.0.1:" + ops.admin().address().getPort();
  }

  private HttpResponse<String> get(String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(base() + path)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> post(String path, String token) throws Exception {
    HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(base() + path))
        .POST(HttpRequest.BodyPublishers.noBody());
    if (token != null) {
      r.header("Authorization", "Bearer " + token);
    }
    return http.send(r.build(), HttpResponse.BodyHandlers.ofString());
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
        .contains("\"listeners\":[{\"name\":\"main\",\"address\":\"127.0.0.1:"
            + tollgate.address("main").getPort() + "\"}]")
        .contains("\"routes\":[{\"name\":\"web.test\",\"hosts\":[\"web.test\"],"
            + "\"mode\":\"passthrough\",\"pool\":\"web\"}]")
        .contains("\"default_route\":\"reject\"")
        .contains("{\"address\":\"127.0.0.1:" + port + "\",\"resolved\":\"127.0.0.1:" + port
            + "\",\"weight\":1,\"max_connections\":0,\"health\":\"up\"")
        .contains("\"draining\":false,\"active_connections\":0");
  }

  @Test
  void metricsAreServedInPrometheusTextFormat() throws Exception {
    start(false);
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), tollgate.address("main").getPort())) {
      s.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      s.getInputStream().read(); // closed as not_tls
    } catch (java.io.IOException expected) {
      // reset or closed: either way the connection was counted
    }
    TollgateFixture.await(() -> tollgate.metrics().closedCount(
        io.tollgate.connection.CloseReason.NOT_TLS) == 1, Duration.ofSeconds(5));
    HttpResponse<String> r = get("/metrics");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type").orElseThrow())
        .startsWith("text/plain; version=0.0.4");
    assertThat(r.body()).contains("# TYPE tollgate_connections_accepted_total counter")
        .contains("tollgate_connections_accepted_total{listener=\"main\"} 1.0")
        .contains("tollgate_connections_closed_total{reason=\"not_tls\"} 1.0");
  }

  @Test
  void mutatingRequestsNeedTheBearerTokenAndReadsDoNot() throws Exception {
    start(true);
    String drain = "/pools/web/servers/127.0.0.1:" + servers.get(0).port() + "/drain";
    assertThat(post(drain, null).statusCode()).isEqualTo(401);
    HttpResponse<String> wrong = post(drain, "nope");
    assertThat(wrong.statusCode()).isEqualTo(401);
    assertThat(wrong.headers().firstValue("WWW-Authenticate")).isPresent();
    assertThat(post("/reload", "s3cret-tokeN").statusCode()).isEqualTo(401);
    assertThat(tollgate.snapshot().pools().get("web").servers().get(0).state().isDraining())
        .isFalse();
    assertThat(tollgate.configVersion()).isEqualTo(1);
    assertThat(get("/status").statusCode()).isEqualTo(200);

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
    assertThat(get("/status").body()).contains("\"address\":\"" + server + "\"")
        .containsPattern("\"address\":\"" + server.replace(".", "\\.")
            + "\"[^}]*\"draining\":true");
    for (int i = 0; i < 6; i++) {
      assertThat(greeting()).isEqualTo("b");
    }
    assertThat(post("/pools/web/servers/" + server + "/enable", null).statusCode())
        .isEqualTo(200);
    List<String> seen = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      seen.add(greeting());
    }
    assertThat(seen).contains("a", "b");

    assertThat(post("/pools/nope/servers/" + server + "/drain", null).statusCode())
        .isEqualTo(404);
    assertThat(post("/pools/web/servers/10.9.9.9:1/drain", null).body())
        .contains("has no server");
    assertThat(get("/pools/web/servers/" + server + "/drain").statusCode()).isEqualTo(405);
    assertThat(get("/reload").statusCode()).isEqualTo(405);
    assertThat(get("/nothing").statusCode()).isEqualTo(404);
  }

  private String greeting() throws Exception {
    // A plaintext backend behind passthrough: send a real ClientHello, read the greeting that
    // the backend writes before any TLS.
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), tollgate.address("main").getPort())) {
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
    String withPort = good.replace("address = \"127.0.0.1:0\" ,",
        "address = \"127.0.0.1:" + ops.admin().address().getPort() + "\" ,");
    assertThat(withPort).isNotEqualTo(good);
    Files.writeString(file, withPort);
    String[] out = cli("reload", "--config", file.toString());
    assertThat(out[0]).isEqualTo("0");
    assertThat(out[1]).contains("reloaded: {\"ok\":true,\"version\":3");

    Files.writeString(file, withPort.replace("pool = web", "pool = wbe"));
    r = post("/reload", TOKEN);
    assertThat(r.statusCode()).isEqualTo(422);
    assertThat(r.body()).contains("\"ok\":false,\"version\":3")
        .contains("tollgate.routes[0].pool: no pool named \\\"wbe\\\"");
    assertThat(get("/status").body()).contains("\"reloads_failed\":1")
        .contains("\"last_reload_errors\":[\"" + file);
    // The command checks the file first and sends nothing when it is broken.
    out = cli("reload", "--config", file.toString());
    assertThat(out[0]).isEqualTo("1");
    assertThat(out[2]).contains("no pool named \"wbe\"").contains("not reloading");
    assertThat(tollgate.configVersion()).isEqualTo(3);
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
