package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.tollgate.connection.CloseReason;
import io.tollgate.ops.Reloader;
import io.tollgate.pki.CertificateAuthority;
import io.tollgate.pki.CertificateAuthority.KeyType;
import io.tollgate.pki.IssuedCertificate;
import io.tollgate.testkit.TlsTestClient;
import io.tollgate.testkit.TlsTestServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Reloading the config file while connections flow: nothing fails, new connections follow the new
 * routes and certificates, open ones keep their backend; an invalid file changes nothing; listeners
 * come and go with the config.
 */
@Timeout(120)
class ReloadTest {
  @TempDir Path dir;
  private CertificateAuthority ca;
  private final Map<String, BigInteger> shopSerials = new ConcurrentHashMap<>();
  private final List<TlsTestServer> servers = new ArrayList<>();
  private TlsTestServer passA;
  private TlsTestServer passB;
  private TlsTestServer shopA;
  private TlsTestServer shopB;
  private TollgateFixture tollgate;
  private Reloader reloader;

  @BeforeEach
  void setUp() throws Exception {
    ca = CertificateAuthority.create("Tollgate Reload IT CA", KeyType.EC_P256);
    ca.writeCertificatePem(dir.resolve("ca.pem"));
    IssuedCertificate pass = ca.issue(KeyType.EC_P256, "pass.test");
    for (String n : List.of("shop-1", "shop-2")) {
      IssuedCertificate c = ca.issue(KeyType.EC_P256, "shop.test");
      c.writePem(dir, n);
      shopSerials.put(n, c.certificate().getSerialNumber());
    }
    passA = server(TlsTestServer.start(pass, TlsTestServer.greet("pass-a")));
    passB = server(TlsTestServer.start(pass, TlsTestServer.greet("pass-b")));
    shopA = server(TlsTestServer.startPlain(TlsTestServer.greet("shop-a")));
    shopB = server(TlsTestServer.startPlain(TlsTestServer.greet("shop-b")));
    tollgate = TollgateFixture.startIn(dir, body(0, ""));
    reloader = new Reloader(dir.resolve("tollgate.conf"), tollgate.tollgate());
  }

  private TlsTestServer server(TlsTestServer s) {
    servers.add(s);
    return s;
  }

  @AfterEach
  void tearDown() {
    if (tollgate != null) {
      tollgate.close();
    }
    servers.forEach(TlsTestServer::close);
  }

  /** Generation {@code i}: even ones route to the a-pools with shop-1, odd ones to b and shop-2. */
  private String body(int i, String extra) {
    String side = i % 2 == 0 ? "a" : "b";
    String cert = i % 2 == 0 ? "shop-1" : "shop-2";
    return String.format(
        """
        certificates { trusted-roots = "ca.pem" }
        routes = [
          { hosts = ["pass.test"], mode = passthrough, pool = pass-%1$s }
          { hosts = ["shop.test"], mode = offload, pool = shop-%1$s,
            certificate { chain = "%2$s.pem", key = "%2$s.key" } }
          { hosts = ["gen%3$d.test"], mode = passthrough, pool = pass-%1$s }
        ]
        pools {
          pass-a { servers = ["127.0.0.1:%4$d"] }
          pass-b { servers = ["127.0.0.1:%5$d"] }
          shop-a { servers = ["127.0.0.1:%6$d"] }
          shop-b { servers = ["127.0.0.1:%7$d"] }
        }
        %8$s
        """,
        side, cert, i, passA.port(), passB.port(), shopA.port(), shopB.port(), extra);
  }

  private void writeConfig(String listeners, String body) throws IOException {
    Files.writeString(
        dir.resolve("tollgate.conf"),
        "tollgate {\n  listeners = " + listeners + "\n" + body + "\n}\n");
  }

  private void writeGeneration(int i) throws IOException {
    writeConfig("[ { name = main, address = \"127.0.0.1:0\" } ]", body(i, ""));
  }

  /** The backend's greeting; the certificate must chain to the CA (names: see connect). */
  private static String greeting(int port, String name, CertificateAuthority ca) {
    // genN.test routes to the pass.test backend, whose certificate does not name it.
    String verify = name.startsWith("gen") ? null : name;
    try (TlsTestClient.Connection c =
        TlsTestClient.connect(
            new InetSocketAddress("127.0.0.1", port),
            name,
            verify,
            ca.clientContext(),
            Duration.ofSeconds(10))) {
      return firstLine(c);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String firstLine(TlsTestClient.Connection c) throws IOException {
    return new BufferedReader(
            new InputStreamReader(c.socket().getInputStream(), StandardCharsets.UTF_8))
        .readLine();
  }

  @Test
  void fiftyReloadsUnderTrafficFailNoConnectionAndNewConnectionsSeeTheNewConfig() throws Exception {
    int port = tollgate.port();
    // Opened before any reload: it must keep its backend (shop-a) through all of them.
    TlsTestClient.Connection longLived = TlsTestClient.connect(port, "shop.test", ca);
    BufferedReader longIn =
        new BufferedReader(
            new InputStreamReader(longLived.socket().getInputStream(), StandardCharsets.UTF_8));
    assertThat(longIn.readLine()).isEqualTo("shop-a");

    AtomicBoolean stop = new AtomicBoolean();
    AtomicInteger ok = new AtomicInteger();
    List<Throwable> failures = new CopyOnWriteArrayList<>();
    Set<String> seen = ConcurrentHashMap.newKeySet();
    List<Thread> clients = new ArrayList<>();
    for (String name : List.of("pass.test", "shop.test", "pass.test", "shop.test")) {
      Thread t =
          new Thread(
              () -> {
                while (!stop.get()) {
                  try {
                    String g = greeting(port, name, ca);
                    if (g == null || !g.startsWith(name.substring(0, 4))) {
                      throw new AssertionError(name + " got " + g);
                    }
                    seen.add(g);
                    ok.incrementAndGet();
                  } catch (Throwable e) {
                    failures.add(e);
                  }
                }
              },
              "client-" + name);
      t.start();
      clients.add(t);
    }
    for (int i = 1; i <= 50; i++) {
      writeGeneration(i);
      Reloader.Result r = reloader.reload("test");
      assertThat(r.errors()).isEmpty();
      assertThat(r.ok()).isTrue();
      Thread.sleep(20);
    }
    stop.set(true);
    for (Thread t : clients) {
      t.join(30_000);
    }
    assertThat(failures).as("failed connections").isEmpty();
    assertThat(ok.get()).as("connections during the reloads").isGreaterThan(50);
    assertThat(seen).contains("pass-a", "pass-b", "shop-a", "shop-b");
    assertThat(tollgate.tollgate().configVersion()).isEqualTo(51);

    // Generation 50 (even): a-pools, shop-1; the name gen50.test exists only now.
    assertThat(greeting(port, "pass.test", ca)).isEqualTo("pass-a");
    assertThat(greeting(port, "gen50.test", ca)).isEqualTo("pass-a");
    try (TlsTestClient.Connection c = TlsTestClient.connect(port, "shop.test", ca)) {
      assertThat(c.peerCertificate().getSerialNumber()).isEqualTo(shopSerials.get("shop-1"));
    }
    writeGeneration(51);
    assertThat(reloader.reload("test").ok()).isTrue();
    try (TlsTestClient.Connection c = TlsTestClient.connect(port, "shop.test", ca)) {
      assertThat(c.peerCertificate().getSerialNumber()).isEqualTo(shopSerials.get("shop-2"));
      assertThat(firstLine(c)).isEqualTo("shop-b");
    }
    assertThatThrownBy(() -> greeting(port, "gen50.test", ca)).isInstanceOf(Exception.class);

    // The connection from before the first reload still talks to shop-a.
    longLived.socket().getOutputStream().write("still here\n".getBytes(StandardCharsets.UTF_8));
    longLived.socket().getOutputStream().flush();
    assertThat(longIn.readLine()).isEqualTo("still here");
    longLived.close();
  }

  /**
   * A connection is set up and routed with the config in force when it was accepted: one that sends
   * its hello only after a reload still gets the old route and the old hello timeout, while new
   * ones get the new route and the new timeout.
   */
  @Test
  void aConnectionAcceptedBeforeAReloadKeepsItsConfigAndNewOnesGetTheNewOne() throws Exception {
    int port = tollgate.port();
    writeConfig(
        "[ { name = main, address = \"127.0.0.1:0\" } ]",
        body(0, "timeouts { client-hello = 30s }"));
    assertThat(reloader.reload("test").ok()).isTrue();
    // Accepted under generation 0 (pass.test -> pass-a, 30 s for the hello), which it sends
    // only after the next reload.
    Socket early = new Socket();
    early.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
    early.setSoTimeout(10_000);
    TollgateFixture.await(() -> tollgate.tollgate().openConnections() == 1, Duration.ofSeconds(10));
    assertThat(tollgate.tollgate().openConnections())
        .as("the early connection, accepted")
        .isEqualTo(1);

    writeConfig(
        "[ { name = main, address = \"127.0.0.1:0\" } ]",
        body(1, "timeouts { client-hello = 300ms }"));
    assertThat(reloader.reload("test").ok()).isTrue();
    assertThat(greeting(port, "pass.test", ca)).isEqualTo("pass-b");
    try (Socket silent = new Socket()) {
      silent.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
      // Only the new connection runs out of time: the early one has generation 0's 30 s.
      tollgate.awaitClosed(CloseReason.HELLO_TIMEOUT, 1);
    }

    SSLSocket tls =
        (SSLSocket)
            ca.clientContext().getSocketFactory().createSocket(early, "pass.test", port, true);
    SSLParameters p = tls.getSSLParameters();
    p.setServerNames(List.of(new SNIHostName("pass.test")));
    tls.setSSLParameters(p);
    try (tls) {
      tls.startHandshake();
      assertThat(
              new BufferedReader(
                      new InputStreamReader(tls.getInputStream(), StandardCharsets.UTF_8))
                  .readLine())
          .as("routed with generation 0")
          .isEqualTo("pass-a");
    }
  }

  @Test
  void ioSettingsReadAtStartOnlyAreKeptAndAReloadAskingOtherwiseSaysSo() throws Exception {
    String startedOn = tollgate.tollgate().transportName();
    String other = startedOn.equals("nio") ? "epoll" : "nio";
    int cores = Runtime.getRuntime().availableProcessors(); // worker-threads = 0 at start
    Logger logger = (Logger) LoggerFactory.getLogger(io.tollgate.Tollgate.class);
    ListAppender<ILoggingEvent> logged = new ListAppender<>();
    logged.start();
    logger.addAppender(logged);
    try {
      writeConfig(
          "[ { name = main, address = \"127.0.0.1:0\" } ]",
          body(
              1,
              "io { transport = "
                  + other
                  + ", worker-threads = "
                  + (cores + 1)
                  + ", accept = thread, handshake-threads = 2, handshake-priority = idle }"));
      assertThat(reloader.reload("test").ok()).isTrue();
      List<String> expected =
          List.of(
              "tollgate.io.transport: "
                  + startedOn
                  + " stays in force, not "
                  + other
                  + " (read at start only: takes effect at the next start)",
              "tollgate.io.worker-threads: "
                  + cores
                  + " stays in force, not "
                  + (cores + 1)
                  + " (read at start only: takes effect at the next start or upgrade)",
              "tollgate.io.accept: worker stays in force, not thread (read at start only: takes"
                  + " effect at the next start or upgrade)",
              "tollgate.io.handshake-threads: auto (idle, gaps) stays in force, not 2 (idle,"
                  + " gaps) (read at start only: takes effect at the next start or upgrade)");
      // Warnings of the config in force (what /status lists), and logged.
      assertThat(ioWarnings()).containsExactlyElementsOf(expected);
      String source = tollgate.tollgate().snapshot().config().source();
      assertThat(logged.list)
          .extracting(ILoggingEvent::getFormattedMessage)
          .filteredOn(m -> m.contains(": tollgate.io."))
          .containsExactlyElementsOf(
              expected.stream().map(w -> "config warning: " + source + ": " + w).toList());
      // The rest of the reload applied; the transport did not change under the connections.
      assertThat(greeting(tollgate.port(), "pass.test", ca)).isEqualTo("pass-b");
      assertThat(tollgate.tollgate().transportName()).isEqualTo(startedOn);

      // Back to what the process started with: nothing to say.
      logged.list.clear();
      writeGeneration(2);
      assertThat(reloader.reload("test").ok()).isTrue();
      assertThat(ioWarnings()).isEmpty();
      assertThat(logged.list)
          .extracting(ILoggingEvent::getFormattedMessage)
          .noneMatch(m -> m.contains(": tollgate.io."));
    } finally {
      logger.detachAppender(logged);
    }
  }

  private List<String> ioWarnings() {
    return tollgate.tollgate().snapshot().warnings().stream()
        .filter(w -> w.path().startsWith("tollgate.io."))
        .map(w -> w.path() + ": " + w.message())
        .toList();
  }

  @Test
  void anInvalidConfigIsRejectedWithItsErrorsAndTheOldOneKeepsRunning() throws Exception {
    writeConfig(
        "[ { name = main, address = \"127.0.0.1:0\" } ]",
        body(1, "").replace("pool = pass-b }", "pool = pass-c }"));
    Reloader.Result r = reloader.reload("test");
    assertThat(r.ok()).isFalse();
    assertThat(r.version()).isEqualTo(1);
    assertThat(r.errors()).anyMatch(e -> e.contains("tollgate.conf:") && e.contains("pass-c"));
    assertThat(greeting(tollgate.port(), "pass.test", ca)).isEqualTo("pass-a");

    // A certificate file that is not PEM: rejected by the TLS checks, same outcome.
    Files.writeString(dir.resolve("shop-2.pem"), "not a certificate\n");
    writeGeneration(1);
    r = reloader.reload("test");
    assertThat(r.ok()).isFalse();
    assertThat(r.errors()).anyMatch(e -> e.contains("shop-2.pem"));
    assertThat(greeting(tollgate.port(), "shop.test", ca)).isEqualTo("shop-a");
    assertThat(tollgate.tollgate().configVersion()).isEqualTo(1);
    assertThat(reloader.failed()).isEqualTo(2);
  }

  @Test
  void listenersAreBoundAndUnboundByReloadAndOpenConnectionsOnARemovedOneContinue()
      throws Exception {
    int mainPort = tollgate.port();
    writeConfig(
        """
        [ { name = main, address = "127.0.0.1:0" }, { name = second, address = "127.0.0.3:0" } ]""",
        body(0, ""));
    assertThat(reloader.reload("test").ok()).isTrue();
    int second = tollgate.tollgate().address("second").getPort();
    assertThat(tollgate.port()).as("main stays bound where it was").isEqualTo(mainPort);
    InetSocketAddress secondAddress = tollgate.tollgate().address("second");
    TlsTestClient.Connection open =
        TlsTestClient.connect(
            secondAddress, "shop.test", "shop.test", ca.clientContext(), Duration.ofSeconds(10));
    BufferedReader in =
        new BufferedReader(
            new InputStreamReader(open.socket().getInputStream(), StandardCharsets.UTF_8));
    assertThat(in.readLine()).isEqualTo("shop-a");

    // second removed, main moved to another address.
    writeConfig("[ { name = main, address = \"127.0.0.2:0\" } ]", body(0, ""));
    assertThat(reloader.reload("test").ok()).isTrue();
    assertThat(tollgate.tollgate().addresses()).containsOnlyKeys("main");
    InetSocketAddress moved = tollgate.tollgate().address("main");
    assertThat(moved.getAddress().getHostAddress()).isEqualTo("127.0.0.2");
    assertRefused(new InetSocketAddress("127.0.0.3", second));
    assertRefused(new InetSocketAddress("127.0.0.1", mainPort));
    try (TlsTestClient.Connection c =
        TlsTestClient.connect(
            moved, "pass.test", "pass.test", ca.clientContext(), Duration.ofSeconds(10))) {
      assertThat(firstLine(c)).isEqualTo("pass-a");
    }
    open.socket().getOutputStream().write("after unbind\n".getBytes(StandardCharsets.UTF_8));
    open.socket().getOutputStream().flush();
    assertThat(in.readLine()).isEqualTo("after unbind");
    open.close();
  }

  @Test
  void aListenerThatCannotBindRejectsTheReloadAndChangesNothing() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      writeConfig(
          String.format(
              """
          [ { name = main, address = "127.0.0.1:0" },
            { name = extra, address = "127.0.0.1:%d" } ]""",
              taken.getLocalPort()),
          body(1, ""));
      Reloader.Result r = reloader.reload("test");
      assertThat(r.ok()).isFalse();
      assertThat(r.errors())
          .anyMatch(e -> e.contains("tollgate.listeners[1].address") && e.contains("cannot bind"));
    }
    assertThat(tollgate.tollgate().addresses()).containsOnlyKeys("main");
    assertThat(greeting(tollgate.port(), "pass.test", ca)).isEqualTo("pass-a");
    assertThat(tollgate.tollgate().configVersion()).isEqualTo(1);
  }

  private static void assertRefused(InetSocketAddress address) {
    assertThatThrownBy(
            () -> {
              try (Socket s = new Socket()) {
                s.connect(address, 2000);
              }
            })
        .isInstanceOf(ConnectException.class);
  }
}
