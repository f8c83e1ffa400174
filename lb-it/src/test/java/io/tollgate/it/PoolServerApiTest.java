package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.Tollgate;
import io.tollgate.admin.AdminServer;
import io.tollgate.config.ConfigLoader;
import io.tollgate.ops.Operations;
import io.tollgate.pki.CertificateAuthority;
import io.tollgate.pki.CertificateAuthority.KeyType;
import io.tollgate.pki.IssuedCertificate;
import io.tollgate.testkit.TlsTestClient;
import io.tollgate.testkit.TlsTestServer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
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
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The run-time server API ({@code POST /pools/{p}/servers}, {@code DELETE
 * /pools/{p}/servers/{addr}}, {@code PUT /pools/{p}/servers/{addr}/weight}) with real TLS backends
 * and clients: traffic follows each change, only a request with the token may change anything, the
 * other tenant's pool never sees a server added to this one, and a reload returns to the file.
 */
@Timeout(60)
class PoolServerApiTest {
  private static final String TOKEN = "pool-api-token";
  private static CertificateAuthority ca;
  private static IssuedCertificate cert;
  @TempDir Path dir;
  private final List<TlsTestServer> servers = new ArrayList<>();
  private Tollgate tollgate;
  private Operations ops;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private TlsTestServer a;
  private TlsTestServer b;

  @BeforeAll
  static void certificates() {
    ca = CertificateAuthority.create("Tollgate pool API CA", KeyType.EC_P256);
    cert = ca.issue(KeyType.EC_P256, "web.test", "other.test");
  }

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

  private TlsTestServer backend(String name) {
    TlsTestServer s = TlsTestServer.start(cert, TlsTestServer.greet(name));
    servers.add(s);
    return s;
  }

  private void start() throws Exception {
    a = backend("a");
    b = backend("b");
    TlsTestServer c = backend("c");
    Files.writeString(dir.resolve("admin.token"), TOKEN + "\n");
    Path file = dir.resolve("tollgate.conf");
    Files.writeString(
        file,
        String.format(
            """
            tollgate {
              listeners = [ { name = main, address = "127.0.0.1:0" } ]
              admin { address = "127.0.0.1:0", token-file = "admin.token" }
              routes = [ { hosts = ["web.test"], pool = web },
                         { hosts = ["other.test"], pool = other } ]
              pools {
                web { servers = ["127.0.0.1:%d"] }
                other { servers = ["127.0.0.1:%d"] }
              }
            }
            """,
            a.port(), c.port()));
    tollgate = Tollgate.start(ConfigLoader.load(file));
    ops = Operations.start(file, ConfigLoader.load(file), tollgate, null, AdminServer::start);
  }

  private HttpResponse<String> send(String method, String path, String body, String bearer)
      throws Exception {
    HttpRequest.Builder r =
        HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + ops.admin().address().getPort() + path))
            .timeout(Duration.ofSeconds(30))
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    if (bearer != null) {
      r.header("Authorization", "Bearer " + bearer);
    }
    return http.send(r.build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> send(String method, String path, String body) throws Exception {
    return send(method, path, body, TOKEN);
  }

  private String greeting(String sni) throws Exception {
    try (TlsTestClient.Connection c =
        TlsTestClient.connect(tollgate.address("main").getPort(), sni, ca)) {
      return new BufferedReader(
              new InputStreamReader(c.socket().getInputStream(), StandardCharsets.UTF_8))
          .readLine();
    }
  }

  private Map<String, Integer> greetings(String sni, int n) throws Exception {
    Map<String, Integer> counts = new TreeMap<>();
    for (int i = 0; i < n; i++) {
      counts.merge(greeting(sni), 1, Integer::sum);
    }
    return counts;
  }

  @Test
  void addReweightAndRemoveAServerTrafficFollowsAndTheOtherTenantNeverSeesIt() throws Exception {
    start();
    assertThat(greetings("web.test", 4)).isEqualTo(Map.of("a", 4));

    HttpResponse<String> added =
        send("POST", "/pools/web/servers", "{\"address\": \"127.0.0.1:" + b.port() + "\"}");
    assertThat(added.statusCode()).as(added.body()).isEqualTo(201);
    assertThat(added.body()).contains("\"persisted\":false", "127.0.0.1:" + b.port());
    assertThat(greetings("web.test", 6)).isEqualTo(Map.of("a", 3, "b", 3));
    assertThat(greetings("other.test", 6)).isEqualTo(Map.of("c", 6));

    HttpResponse<String> weighted =
        send("PUT", "/pools/web/servers/127.0.0.1:" + a.port() + "/weight", "{\"weight\": 3}");
    assertThat(weighted.statusCode()).as(weighted.body()).isEqualTo(200);
    assertThat(greetings("web.test", 8)).isEqualTo(Map.of("a", 6, "b", 2));

    HttpResponse<String> removed = send("DELETE", "/pools/web/servers/127.0.0.1:" + a.port(), null);
    assertThat(removed.statusCode()).as(removed.body()).isEqualTo(200);
    assertThat(greetings("web.test", 4)).isEqualTo(Map.of("b", 4));
    assertThat(greetings("other.test", 3)).isEqualTo(Map.of("c", 3));
    assertThat(send("GET", "/status", null).body()).contains("\"changed_at_run_time\":true");
  }

  @Test
  void aReloadReturnsToTheFile() throws Exception {
    start();
    assertThat(
            send("POST", "/pools/web/servers", "{\"address\":\"127.0.0.1:" + b.port() + "\"}")
                .statusCode())
        .isEqualTo(201);
    assertThat(send("DELETE", "/pools/web/servers/127.0.0.1:" + a.port(), null).statusCode())
        .isEqualTo(200);
    assertThat(greetings("web.test", 3)).isEqualTo(Map.of("b", 3));

    HttpResponse<String> reload = send("POST", "/reload", null);
    assertThat(reload.statusCode()).as(reload.body()).isEqualTo(200);
    assertThat(greetings("web.test", 4)).isEqualTo(Map.of("a", 4));
    assertThat(send("GET", "/status", null).body()).contains("\"changed_at_run_time\":false");
  }

  @Test
  void changesNeedTheToken() throws Exception {
    start();
    String add = "{\"address\": \"127.0.0.1:" + b.port() + "\"}";
    assertThat(send("POST", "/pools/web/servers", add, null).statusCode()).isEqualTo(401);
    assertThat(send("POST", "/pools/web/servers", add, "wrong").statusCode()).isEqualTo(401);
    assertThat(send("DELETE", "/pools/web/servers/127.0.0.1:" + a.port(), null, null).statusCode())
        .isEqualTo(401);
    assertThat(
            send(
                    "PUT",
                    "/pools/web/servers/127.0.0.1:" + a.port() + "/weight",
                    "{\"weight\":2}",
                    "wrong")
                .statusCode())
        .isEqualTo(401);
    assertThat(greetings("web.test", 4)).isEqualTo(Map.of("a", 4));
    assertThat(tollgate.snapshot().pools().get("web").servers()).hasSize(1);
  }

  @Test
  void errorsAreSpecific() throws Exception {
    start();
    String add = "{\"address\": \"127.0.0.1:" + b.port() + "\"}";
    HttpResponse<String> r = send("POST", "/pools/nope/servers", add);
    assertThat(r.statusCode()).isEqualTo(404);
    assertThat(r.body()).contains("no pool named \\\"nope\\\"");
    r = send("POST", "/pools/web/servers", "{\"address\": \"not-an-address\"}");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body()).contains("not an address");
    r = send("POST", "/pools/web/servers", "{\"address\": \"backend.example:443\"}");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body()).contains("is not an IP address and port");
    assertThat(send("POST", "/pools/web/servers", "{\"address\": 5").statusCode()).isEqualTo(400);
    assertThat(send("POST", "/pools/web/servers", "{\"adress\": \"127.0.0.1:1\"}").body())
        .contains("unknown field \\\"adress\\\"");
    r = send("POST", "/pools/web/servers", "{\"address\": \"127.0.0.1:" + a.port() + "\"}");
    assertThat(r.statusCode()).isEqualTo(409);
    r = send("POST", "/pools/web/servers", "{\"address\": \"127.0.0.1:1\", \"weight\": 0}");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body()).contains("out of range");
    r = send("DELETE", "/pools/web/servers/127.0.0.1:1", null);
    assertThat(r.statusCode()).isEqualTo(404);
    assertThat(r.body()).contains("has no server");
    r = send("DELETE", "/pools/web/servers/nonsense", null);
    assertThat(r.statusCode()).isEqualTo(400);
    r = send("PUT", "/pools/web/servers/127.0.0.1:" + a.port() + "/weight", "{}");
    assertThat(r.statusCode()).isEqualTo(400);
    r = send("GET", "/pools/web/servers", null);
    assertThat(r.statusCode()).isEqualTo(405);
    assertThat(r.headers().firstValue("Allow")).contains("POST");
    assertThat(greetings("web.test", 3)).isEqualTo(Map.of("a", 3));
  }
}
