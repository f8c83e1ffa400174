package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.Tollgate;
import io.tollgate.admin.AdminServer;
import io.tollgate.config.ConfigLoader;
import io.tollgate.connection.CloseReason;
import io.tollgate.health.ServerState;
import io.tollgate.ops.Operations;
import io.tollgate.pki.CertificateAuthority;
import io.tollgate.pki.CertificateAuthority.KeyType;
import io.tollgate.pki.IssuedCertificate;
import io.tollgate.pool.Backend;
import io.tollgate.pool.Pool;
import io.tollgate.testkit.TlsTestClient;
import io.tollgate.testkit.TlsTestServer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 13's pool and socket options end to end with real backends: backup servers that take over
 * only while every other server is down (and give the traffic back), {@code pools.*.source} as the
 * address backends see (health probes included), {@code timeouts.max-lifetime} ending a busy
 * connection, and {@code timeouts.keepalive} as the kernel reports it for Tollgate's client and
 * backend sockets.
 */
@Timeout(120)
class BackupAndSocketOptionsTest {
  private static final String CHECK =
      "health-check { type = tcp, interval = 100ms, timeout = 200ms, rise = 1, fall = 1,"
          + " jitter = 0 }";
  private static final String ROUTE = "routes = [ { hosts = [\"app.test\"], pool = app } ]\n";

  @TempDir Path dir;
  private static CertificateAuthority ca;
  private static IssuedCertificate cert;
  private final List<TlsTestServer> servers = new ArrayList<>();
  private Tollgate tollgate;
  private Operations ops;

  @BeforeAll
  static void certificates() {
    ca = CertificateAuthority.create("Tollgate backup IT CA", KeyType.EC_P256);
    cert = ca.issue(KeyType.EC_P256, "app.test");
  }

  @AfterEach
  void stop() {
    if (ops != null) {
      ops.close();
    }
    if (tollgate != null) {
      tollgate.close();
    }
    servers.forEach(TlsTestServer::close);
  }

  private void start(String body) throws Exception {
    Files.writeString(dir.resolve("admin.token"), "backup-test-token\n");
    Path file = dir.resolve("tollgate.conf");
    Files.writeString(
        file,
        "tollgate {\n  listeners = [ { name = main, address = \"127.0.0.1:0\" } ]\n"
            + "  admin { address = \"127.0.0.1:0\", token-file = \"admin.token\" }\n"
            + body
            + "\n}\n");
    tollgate = Tollgate.start(ConfigLoader.load(file));
    ops = Operations.start(file, ConfigLoader.load(file), tollgate, null, AdminServer::start);
  }

  private TlsTestServer backend(InetSocketAddress bind, TlsTestServer.ConnectionHandler handler) {
    TlsTestServer s = TlsTestServer.start(bind, cert, handler);
    servers.add(s);
    return s;
  }

  private TlsTestServer backend(String name) {
    return backend(new InetSocketAddress("127.0.0.1", 0), TlsTestServer.greet(name));
  }

  private int port() {
    return tollgate.address("main").getPort();
  }

  private String greeting() throws Exception {
    try (TlsTestClient.Connection c = TlsTestClient.connect(port(), "app.test", ca)) {
      return new BufferedReader(
              new InputStreamReader(c.socket().getInputStream(), StandardCharsets.UTF_8))
          .readLine();
    }
  }

  private Map<String, Integer> greetings(int n) throws Exception {
    Map<String, Integer> counts = new HashMap<>();
    for (int i = 0; i < n; i++) {
      counts.merge(greeting(), 1, Integer::sum);
    }
    return counts;
  }

  private ServerState state(int port) {
    Pool pool = tollgate.snapshot().pools().get("app");
    return pool.servers().stream()
        .filter(b -> b.address().getPort() == port)
        .map(Backend::state)
        .findFirst()
        .orElseThrow();
  }

  private static void awaitUp(ServerState s, boolean up) throws InterruptedException {
    TollgateFixture.await(
        () -> s.isUp() == up,
        Duration.ofSeconds(10),
        () -> s + " (" + s.reason() + ") is " + (up ? "down" : "up"));
  }

  private String status() throws Exception {
    HttpRequest r =
        HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + ops.admin().address().getPort() + "/status"))
            .header("Authorization", "Bearer backup-test-token")
            .timeout(Duration.ofSeconds(30))
            .GET()
            .build();
    HttpResponse<String> response =
        HttpClient.newHttpClient().send(r, HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(200);
    return response.body();
  }

  @Test
  void aBackupServerTakesOverOnlyWhileEveryOtherServerIsDown() throws Exception {
    TlsTestServer one = backend("one");
    TlsTestServer two = backend("two");
    TlsTestServer spare = backend("spare");
    start(
        ROUTE
            + String.format(
                "pools.app { servers = [\"127.0.0.1:%d\", \"127.0.0.1:%d\","
                    + " { address = \"127.0.0.1:%d\", backup = true }], %s }",
                one.port(), two.port(), spare.port(), CHECK));
    awaitUp(state(one.port()), true);
    awaitUp(state(two.port()), true);
    awaitUp(state(spare.port()), true);
    assertThat(greetings(6)).containsOnlyKeys("one", "two");
    assertThat(status())
        .contains(
            "\"address\":\"127.0.0.1:" + spare.port() + "\"",
            "\"backup\":true",
            "\"backup\":false");

    InetSocketAddress oneAddress = one.address();
    one.close();
    awaitUp(state(one.port()), false);
    assertThat(greetings(4)).containsOnlyKeys("two"); // one primary left: no backup yet
    two.close();
    awaitUp(state(two.port()), false);
    assertThat(greetings(4)).containsOnlyKeys("spare");

    TlsTestServer back = backend(oneAddress, TlsTestServer.greet("one-again"));
    awaitUp(state(back.port()), true);
    assertThat(greetings(4)).containsOnlyKeys("one-again");
    assertThat(tollgate.metrics().closedCount(CloseReason.NO_HEALTHY_BACKEND)).isZero();
  }

  @Test
  void backendConnectionsComeFromThePoolsSourceAddress() throws Exception {
    TlsTestServer peerTeller =
        backend(
            new InetSocketAddress("127.0.0.1", 0),
            socket -> {
              OutputStream out = socket.getOutputStream();
              out.write(
                  (socket.getInetAddress().getHostAddress() + "\n")
                      .getBytes(StandardCharsets.US_ASCII));
              out.flush();
            });
    start(
        ROUTE
            + String.format(
                "pools.app { servers = [\"127.0.0.1:%d\"], source = \"127.0.0.2\" }",
                peerTeller.port()));
    assertThat(greeting()).isEqualTo("127.0.0.2");
    assertThat(status()).contains("\"source\":\"127.0.0.2\"");
  }

  @Test
  void healthProbesComeFromThePoolsSourceAddressToo() throws Exception {
    // A backend behind a firewall that admits only the pool's source address: every other peer
    // is closed unanswered, so only probes (and connections) from 127.0.0.3 can succeed.
    List<String> peers = new CopyOnWriteArrayList<>();
    PlainHttpResponder origin = new PlainHttpResponder("firewalled");
    TlsTestServer firewalled =
        TlsTestServer.start(
            new InetSocketAddress("127.0.0.2", 0),
            null,
            socket -> {
              String peer = socket.getInetAddress().getHostAddress();
              peers.add(peer);
              if (peer.equals("127.0.0.3")) {
                origin.handle(socket);
              }
            });
    servers.add(firewalled);
    cert.writePem(dir, "app");
    String body =
        "routes = [ { hosts = [\"app.test\"], mode = offload, pool = app,"
            + " certificate { chain = \"app.pem\", key = \"app.key\" } } ]\n"
            + String.format(
                "pools.app { servers = [\"127.0.0.2:%d\"], source = \"127.0.0.3\","
                    + " health-check { type = http, interval = 100ms, timeout = 2s, rise = 1,"
                    + " fall = 1, jitter = 0, initial = down } }",
                firewalled.port());
    start(body);
    ServerState state = state(firewalled.port());
    awaitUp(state, true); // down until a probe got its 200: it came from 127.0.0.3
    TollgateFixture.await(
        () -> peers.size() >= 3, Duration.ofSeconds(10), () -> "probes seen: " + peers);
    assertThat(peers).containsOnly("127.0.0.3");
    assertThat(state.isUp()).as(state.reason()).isTrue();

    try (TlsTestClient.Connection c = TlsTestClient.connect(port(), "app.test", ca)) {
      OutputStream out = c.socket().getOutputStream();
      out.write(
          "GET /through HTTP/1.1\r\nHost: app.test\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      String answer =
          new String(c.socket().getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
      assertThat(answer).contains("hello from firewalled over plaintext: GET /through HTTP/1.1");
    }
    assertThat(peers).containsOnly("127.0.0.3");

    // A reload that moves the pool to another source restarts the server's probes from there,
    // which this firewall refuses.
    Path file = dir.resolve("tollgate.conf");
    Files.writeString(
        file, Files.readString(file).replace("source = \"127.0.0.3\"", "source = \"127.0.0.4\""));
    tollgate.reload(ConfigLoader.load(file));
    awaitUp(state(firewalled.port()), false);
    assertThat(peers).contains("127.0.0.4");
  }

  @Test
  void maxLifetimeEndsAConnectionThatIsStillBusy() throws Exception {
    TlsTestServer echo = backend(new InetSocketAddress("127.0.0.1", 0), TlsTestServer.echo());
    start(
        ROUTE
            + "timeouts.max-lifetime = 1500ms\n"
            + String.format("pools.app { servers = [\"127.0.0.1:%d\"] }", echo.port()));
    long exchanged = 0;
    boolean ended = false;
    try (TlsTestClient.Connection c = TlsTestClient.connect(port(), "app.test", ca)) {
      c.socket().setSoTimeout(5_000);
      // Busy the whole time: a line every 50 ms, each echoed, until Tollgate ends it (bounded).
      for (int i = 0; i < 400 && !ended; i++) {
        try {
          c.socket().getOutputStream().write("ping\n".getBytes(StandardCharsets.US_ASCII));
          c.socket().getOutputStream().flush();
          byte[] back = c.socket().getInputStream().readNBytes(5);
          if (back.length < 5) {
            ended = true;
          } else {
            exchanged++;
            Thread.sleep(50);
          }
        } catch (java.io.IOException e) {
          ended = true;
        }
      }
    }
    assertThat(ended).as("ended by Tollgate").isTrue();
    assertThat(exchanged).as("echoed before the end").isGreaterThan(3);
    TollgateFixture.await(
        () -> tollgate.metrics().closedCount(CloseReason.MAX_LIFETIME) == 1,
        Duration.ofSeconds(10),
        () -> "closes: " + tollgate.metrics().closedByReason());
    TollgateFixture.await(() -> echo.liveConnections() == 0, Duration.ofSeconds(10));
  }

  @Test
  void keepaliveIsOnForTheClientAndTheBackendSocketWithTheConfiguredIdleTime() throws Exception {
    keepaliveOnBothSockets("epoll");
  }

  @Test
  void keepaliveIsSetPerSocketOnNioToo() throws Exception {
    keepaliveOnBothSockets("nio");
  }

  @Test
  @EnabledIf("io.netty.channel.uring.IoUring#isAvailable")
  void keepaliveIsSetPerSocketOnIoUringToo() throws Exception {
    keepaliveOnBothSockets("io_uring");
  }

  private void keepaliveOnBothSockets(String transport) throws Exception {
    TlsTestServer echo = backend(new InetSocketAddress("127.0.0.1", 0), TlsTestServer.echo());
    start(
        ROUTE
            + "io.transport = "
            + transport
            + "\n"
            + "timeouts.keepalive = 40s\n"
            + String.format("pools.app { servers = [\"127.0.0.1:%d\"] }", echo.port()));
    try (TlsTestClient.Connection c = TlsTestClient.connect(port(), "app.test", ca)) {
      int clientPort = c.socket().getLocalPort();
      // Tollgate's accepted socket (local port = the listener's, remote = our client's) and its
      // backend socket (remote port = the backend's). A socket with data in flight shows its
      // retransmit timer instead, so wait (bounded) for the idle one to show its keepalive timer:
      // more than 10 s left (no other timer is that long on loopback) and at most 40 s, so
      // TCP_KEEPIDLE was set per socket (the kernel default is 2 h). /proc reports the time left
      // in clock ticks (USER_HZ = 100).
      awaitKeepalive(port(), clientPort, 40);
      awaitKeepalive(-1, echo.port(), 40);
      // Our own client socket has no keepalive: once idle it shows no timer at all, the contrast
      // that shows the reading is right.
      TollgateFixture.await(
          () -> timer(clientPort, port()).map(t -> t.kind() == 0).orElse(false),
          Duration.ofSeconds(10),
          () -> "own socket's timer: " + timer(clientPort, port()));
    }
  }

  @Test
  void receiveBufferIsSetOnTheClientAndTheBackendSocketAndAReloadAppliesItToNewOnes()
      throws Exception {
    receiveBufferOnBothSockets("epoll");
  }

  @Test
  void receiveBufferIsSetOnNioToo() throws Exception {
    receiveBufferOnBothSockets("nio");
  }

  @Test
  @EnabledIf("io.netty.channel.uring.IoUring#isAvailable")
  void receiveBufferIsSetOnIoUringToo() throws Exception {
    receiveBufferOnBothSockets("io_uring");
  }

  /**
   * limits.receive-buffer as the kernel reports it ({@code ss -m}: rb, which is twice SO_RCVBUF,
   * the kernel's bookkeeping share included) for Tollgate's accepted socket and its backend socket;
   * then changed by a reload, which new connections follow.
   */
  private void receiveBufferOnBothSockets(String transport) throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(
        io.tollgate.testkit.CommandLineTools.which("ss").isPresent(), "needs ss (iproute2)");
    TlsTestServer echo = backend(new InetSocketAddress("127.0.0.1", 0), TlsTestServer.echo());
    String rest =
        ROUTE
            + "io.transport = "
            + transport
            + "\n"
            + String.format("pools.app { servers = [\"127.0.0.1:%d\"] }", echo.port());
    start(rest + "\nlimits.receive-buffer = 32k");
    try (TlsTestClient.Connection c = TlsTestClient.connect(port(), "app.test", ca)) {
      int clientPort = c.socket().getLocalPort();
      assertThat(SsMemory.receiveBuffer(port(), clientPort)).isEqualTo(2 * 32 * 1024);
      assertThat(SsMemory.receiveBuffer(-1, echo.port())).isEqualTo(2 * 32 * 1024);
      // Our own client socket keeps the kernel's default: the contrast that shows the reading.
      assertThat(SsMemory.receiveBuffer(clientPort, port())).isNotEqualTo(2 * 32 * 1024);
    }
    TollgateFixture.await(() -> echo.liveConnections() == 0, Duration.ofSeconds(10));

    Path file = dir.resolve("tollgate.conf");
    Files.writeString(
        file,
        Files.readString(file)
            .replace("limits.receive-buffer = 32k", "limits.receive-buffer = 48k"));
    tollgate.reload(ConfigLoader.load(file));
    try (TlsTestClient.Connection c = TlsTestClient.connect(port(), "app.test", ca)) {
      int clientPort = c.socket().getLocalPort();
      assertThat(SsMemory.receiveBuffer(port(), clientPort)).isEqualTo(2 * 48 * 1024);
      assertThat(SsMemory.receiveBuffer(-1, echo.port())).isEqualTo(2 * 48 * 1024);
    }
  }

  /** Established TCP sockets' receive buffers as {@code ss -tmn} lists them. */
  private static final class SsMemory {
    /** The rb figure of the one established socket with this local port (-1: any) and peer port. */
    static long receiveBuffer(int localPort, int remotePort) {
      SsSockets.Socket s = SsSockets.one(localPort, remotePort);
      assertThat(s.state()).isEqualTo("ESTAB");
      assertThat(s.receiveBuffer()).as("no skmem for %s", s).isPositive();
      return s.receiveBuffer();
    }
  }

  private static void awaitKeepalive(int localPort, int remotePort, int seconds)
      throws InterruptedException {
    TollgateFixture.await(
        () ->
            timer(localPort, remotePort)
                .map(t -> t.kind() == 2 && t.ticks() > 1000 && t.ticks() <= seconds * 100L)
                .orElse(false),
        Duration.ofSeconds(10),
        () ->
            "keepalive timer of "
                + localPort
                + "->"
                + remotePort
                + ": "
                + timer(localPort, remotePort));
  }

  private static Optional<Timer> timer(int localPort, int remotePort) {
    try {
      return ProcNetTcp.timer(localPort, remotePort).map(Timer::of);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** The "tr:tm->when" column of one /proc/net/tcp line. */
  private record Timer(int kind, long ticks) {
    static Timer of(String column) {
      String[] parts = column.split(":");
      return new Timer(Integer.parseInt(parts[0], 16), Long.parseLong(parts[1], 16));
    }
  }

  /** Established TCP sockets as the kernel lists them. */
  private static final class ProcNetTcp {
    /**
     * The timer column of the established socket with this local port (-1: any) and remote port.
     */
    static Optional<String> timer(int localPort, int remotePort) throws Exception {
      // Java's sockets are dual-stack IPv6 ones, listed in tcp6 with IPv4-mapped addresses.
      List<String> lines = new ArrayList<>(Files.readAllLines(Path.of("/proc/net/tcp")));
      lines.addAll(Files.readAllLines(Path.of("/proc/net/tcp6")));
      for (String line : lines) {
        String[] f = line.trim().split("\\s+");
        if (f.length < 6 || !f[3].equals("01")) {
          continue;
        }
        int local = Integer.parseInt(f[1].substring(f[1].indexOf(':') + 1), 16);
        int remote = Integer.parseInt(f[2].substring(f[2].indexOf(':') + 1), 16);
        if ((localPort < 0 || local == localPort) && remote == remotePort) {
          return Optional.of(f[5]);
        }
      }
      return Optional.empty();
    }
  }
}
