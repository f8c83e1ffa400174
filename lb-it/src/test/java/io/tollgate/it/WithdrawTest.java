package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tollgate.Tollgate;
import io.tollgate.admin.AdminServer;
import io.tollgate.config.ConfigLoader;
import io.tollgate.config.Timeouts;
import io.tollgate.connection.CloseReason;
import io.tollgate.ops.Operations;
import io.tollgate.pki.CertificateAuthority;
import io.tollgate.pki.CertificateAuthority.KeyType;
import io.tollgate.testkit.TlsTestClient;
import io.tollgate.testkit.TlsTestServer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.ConnectException;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code timeouts.withdraw} and the admin probes, in process with real TLS clients and backend:
 * {@code /ready} answers 503 from the first moment of a stop while the listener still accepts and
 * relays new TLS connections; the listener closes when the withdraw period ends (or is cut short,
 * as by a second SIGTERM), then the drain runs; {@code /live} stays 200 throughout.
 */
@Timeout(90)
class WithdrawTest {
  @TempDir Path dir;
  private CertificateAuthority ca;
  private TlsTestServer backend;
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
    if (backend != null) {
      backend.close();
    }
  }

  private void start(String timeouts) throws Exception {
    ca = CertificateAuthority.create("Withdraw CA", KeyType.EC_P256);
    backend =
        TlsTestServer.start(ca.issue(KeyType.EC_P256, "web.test"), TlsTestServer.greet("web"));
    Path file =
        Files.writeString(
            dir.resolve("tollgate.conf"),
            String.format(
                """
                tollgate {
                  listeners = [ { name = main, address = "127.0.0.1:0" } ]
                  admin { address = "127.0.0.1:0" }
                  timeouts { %s }
                  routes = [ { hosts = ["web.test"], pool = web } ]
                  pools { web { servers = ["127.0.0.1:%d"] } }
                }
                """,
                timeouts, backend.port()));
    tollgate = Tollgate.start(ConfigLoader.load(file));
    ops = Operations.start(file, ConfigLoader.load(file), tollgate, null, AdminServer::start);
  }

  private int port() {
    return tollgate.address("main").getPort();
  }

  private HttpResponse<String> get(String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + ops.admin().address().getPort() + path))
            .timeout(Duration.ofSeconds(10))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private int status(String path) {
    try {
      return get(path).statusCode();
    } catch (Exception e) {
      throw new AssertionError(path + ": " + e, e);
    }
  }

  /** A passthrough TLS connection to the backend: its greeting, then one line echoed back. */
  private static void relayed(TlsTestClient.Connection c, String line) throws Exception {
    BufferedReader in =
        new BufferedReader(
            new InputStreamReader(c.socket().getInputStream(), StandardCharsets.UTF_8));
    assertThat(in.readLine()).isEqualTo("web");
    c.socket().getOutputStream().write((line + "\n").getBytes(StandardCharsets.UTF_8));
    c.socket().getOutputStream().flush();
    assertThat(in.readLine()).isEqualTo(line);
  }

  private boolean refused() {
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port())) {
      return false;
    } catch (ConnectException e) {
      return true;
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void readyFailsAtTheStartOfTheWithdrawWhileNewTlsConnectionsAreStillRelayed() throws Exception {
    // Long periods that only a hurry (as by a second and third SIGTERM) ends: no race with a clock.
    start("withdraw = 60s, drain = 60s");
    assertThat(get("/ready").statusCode()).isEqualTo(200);
    assertThat(get("/ready").body()).isEqualTo("{\"ready\":true}\n");
    assertThat(get("/live").statusCode()).isEqualTo(200);
    TlsTestClient.Connection before = TlsTestClient.connect(port(), "web.test", ca);
    BufferedReader beforeIn =
        new BufferedReader(
            new InputStreamReader(before.socket().getInputStream(), StandardCharsets.UTF_8));
    assertThat(beforeIn.readLine()).isEqualTo("web");

    Timeouts t = tollgate.snapshot().config().timeouts();
    CompletableFuture<Integer> stop =
        CompletableFuture.supplyAsync(() -> tollgate.shutdown(t.withdraw(), t.drain()));
    TollgateFixture.await(() -> status("/ready") == 503, Duration.ofSeconds(10));
    assertThat(get("/ready").body()).isEqualTo("{\"ready\":false}\n");

    // The withdraw period: the node is not ready, and still takes and relays new connections.
    try (TlsTestClient.Connection during = TlsTestClient.connect(port(), "web.test", ca)) {
      relayed(during, "during the withdraw period");
    }
    assertThat(get("/live").statusCode()).isEqualTo(200);
    assertThat(stop).isNotDone();

    tollgate.hurryShutdown(); // a second SIGTERM: the listeners close, the drain starts
    TollgateFixture.await(this::refused, Duration.ofSeconds(10));
    assertThat(get("/ready").statusCode()).isEqualTo(503);
    assertThat(get("/live").statusCode()).isEqualTo(200);
    // The connection from before the stop goes on during the drain.
    before.socket().getOutputStream().write("during the drain\n".getBytes(StandardCharsets.UTF_8));
    before.socket().getOutputStream().flush();
    assertThat(beforeIn.readLine()).isEqualTo("during the drain");
    assertThat(stop).isNotDone();

    tollgate.hurryShutdown(); // a third: the drain ends, the rest is closed
    assertThat(stop.get(20, TimeUnit.SECONDS)).as("connections cut").isEqualTo(1);
    assertThat(tollgate.metrics().closedCount(CloseReason.SHUTDOWN)).isEqualTo(1);
    before.close();
  }

  @Test
  void theListenerClosesWhenTheWithdrawPeriodEnds() throws Exception {
    start("withdraw = 1500ms, drain = 5s");
    assertThat(get("/ready").statusCode()).isEqualTo(200);
    long t0 = System.nanoTime();
    CompletableFuture<Integer> stop =
        CompletableFuture.supplyAsync(
            () -> tollgate.shutdown(Duration.ofMillis(1500), Duration.ofSeconds(5)));
    TollgateFixture.await(() -> status("/ready") == 503, Duration.ofSeconds(10));
    assertThat(stop.get(20, TimeUnit.SECONDS)).isZero();
    assertThat((System.nanoTime() - t0) / 1_000_000)
        .as("accepted for the withdraw period before closing")
        .isGreaterThanOrEqualTo(1_500);
    assertThatThrownBy(() -> new Socket(InetAddress.getLoopbackAddress(), port()).close())
        .isInstanceOf(ConnectException.class);
  }

  @Test
  void aHurryBeforeTheStopSkipsTheWithdrawPeriod() throws Exception {
    start("withdraw = 60s");
    tollgate.hurryShutdown(); // a second signal that came before the stop had begun
    CompletableFuture<Integer> stop =
        CompletableFuture.supplyAsync(
            () -> tollgate.shutdown(Duration.ofSeconds(60), Duration.ofSeconds(5)));
    assertThat(stop.get(20, TimeUnit.SECONDS)).as("not held for the 60 s withdraw").isZero();
    assertThat(tollgate.readiness().isReady()).isFalse();
  }
}
