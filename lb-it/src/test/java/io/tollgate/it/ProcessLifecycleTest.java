package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tollgate.cli.TollgateCli;
import io.tollgate.config.OpsConfig;
import io.tollgate.testkit.TlsTestServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
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
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * A real {@code tollgate run} process (the packaged jar): SIGHUP and {@code tollgate reload
 * --pid-file} reload it, and SIGTERM withdraws {@code /ready} (and keeps accepting for {@code
 * timeouts.withdraw}), stops accepting, drains for {@code timeouts.drain}, closes what is left and
 * exits 0.
 */
@Timeout(120)
class ProcessLifecycleTest {
  private static final Path JAR = Path.of("..", "lb-core", "target", "tollgate.jar");
  private static final Pattern STARTED = Pattern.compile("main=/127\\.0\\.0\\.1:(\\d+)");

  @TempDir Path dir;
  private final List<TlsTestServer> servers = new ArrayList<>();
  private final List<String> log = new CopyOnWriteArrayList<>();
  private TlsTestServer a;
  private TlsTestServer b;
  private Process process;

  @BeforeEach
  void setUp() {
    assumeTrue(Files.exists(JAR), "run through mvn verify: needs lb-core's packaged jar");
    a = TlsTestServer.startPlain(TlsTestServer.greet("a"));
    b = TlsTestServer.startPlain(TlsTestServer.greet("b"));
    servers.add(a);
    servers.add(b);
  }

  @AfterEach
  void tearDown() throws InterruptedException {
    if (process != null) {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
    servers.forEach(TlsTestServer::close);
  }

  /** A config that starts at once: no start-up warm-up (see the test of the default below). */
  private Path writeConfig(String pool, String extra) throws IOException {
    return writeConfigAsIs(pool, "warmup.handshakes = 0\n" + extra);
  }

  private Path writeConfigAsIs(String pool, String extra) throws IOException {
    return Files.writeString(
        dir.resolve("tollgate.conf"),
        String.format(
            """
        tollgate {
          listeners = [ { name = main, address = "127.0.0.1:0" } ]
          routes = [ { hosts = ["web.test"], pool = %s } ]
          pools { a { servers = ["127.0.0.1:%d"] }, b { servers = ["127.0.0.1:%d"] } }
          %s
        }
        """,
            pool, a.port(), b.port(), extra));
  }

  /** Starts {@code tollgate run} and returns the port it listens on. */
  private int run(Path config) throws Exception {
    return run(config, "39");
  }

  /**
   * As {@link #run(Path)}, with {@code _JAVA_SR_SIGNUM} set to {@code suspendSignal} (as
   * scripts/tollgate does), or unset when null.
   */
  private int run(Path config, String suspendSignal) throws Exception {
    return run(config, suspendSignal, Duration.ofSeconds(30));
  }

  /** As {@link #run(Path, String)}, waiting up to {@code limit} for the start. */
  private int run(Path config, String suspendSignal, Duration limit) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder builder =
        new ProcessBuilder(
                java,
                "-jar",
                JAR.toString(),
                "run",
                "--config",
                config.toString(),
                "--pid-file",
                dir.resolve("tollgate.pid").toString())
            .redirectOutput(ProcessBuilder.Redirect.DISCARD);
    if (suspendSignal == null) {
      builder.environment().remove("_JAVA_SR_SIGNUM");
    } else {
      builder.environment().put("_JAVA_SR_SIGNUM", suspendSignal);
    }
    process = builder.start();
    ProcessLog.follow(process, log);
    String started = awaitLog("Tollgate started", limit);
    Matcher m = STARTED.matcher(started);
    assertThat(m.find()).as(started).isTrue();
    // Written just after that line.
    TollgateFixture.await(() -> Files.exists(dir.resolve("tollgate.pid")), Duration.ofSeconds(10));
    TollgateFixture.await(
        () -> contentOf(dir.resolve("tollgate.pid")).endsWith("\n"), Duration.ofSeconds(5));
    assertThat(dir.resolve("tollgate.pid")).hasContent(Long.toString(process.pid()));
    return Integer.parseInt(m.group(1));
  }

  private static String contentOf(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      return "";
    }
  }

  private String awaitLog(String text, Duration limit) throws InterruptedException {
    long deadline = System.nanoTime() + limit.toNanos();
    while (System.nanoTime() < deadline) {
      for (String line : log) {
        if (line.contains(text)) {
          return line;
        }
      }
      Thread.sleep(20);
    }
    throw new AssertionError("no log line with \"" + text + "\" in:\n" + String.join("\n", log));
  }

  private static Socket connect(int port) throws Exception {
    Socket s = new Socket(InetAddress.getLoopbackAddress(), port);
    s.setSoTimeout(10_000);
    s.getOutputStream().write(JdkClientHello.forName("web.test", List.of()));
    return s;
  }

  private static String greeting(int port) throws Exception {
    try (Socket s = connect(port)) {
      return new BufferedReader(
              new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII))
          .readLine();
    }
  }

  private void kill(String signal) throws Exception {
    Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).start();
    assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(kill.exitValue()).isZero();
  }

  @Test
  void startedWithoutTheSuspendSignalVariableItWarnsThatProfilingWouldUpgradeIt() throws Exception {
    int port = run(writeConfig("a", ""), null);
    awaitLog("SIGUSR2 is also this JVM's thread-suspend signal", Duration.ofSeconds(10));
    // SIGUSR2 stays Tollgate's (a JVM without a handler for it dies of a stray one): it upgrades.
    assertThat(greeting(port)).isEqualTo("a");
    process.destroyForcibly();
    process.waitFor(10, TimeUnit.SECONDS);
    log.clear();
    Files.deleteIfExists(dir.resolve("tollgate.pid"));

    run(writeConfig("a", ""), "39");
    assertThat(log).noneMatch(line -> line.contains("thread-suspend signal"));
  }

  @Test
  void runWarmsUpByDefaultBeforeItAcceptsAndTheFirstClientIsServed() throws Exception {
    int port = run(writeConfigAsIs("a", ""), "39", Duration.ofSeconds(60));
    // Logged before "Tollgate started", which run() waited for: the listeners bind after it.
    String line = awaitLog("warm-up: ", Duration.ofSeconds(5));
    // How many it made depends on the machine: the warm-up stops at its time bound, which a loaded
    // machine may reach before AUTO_HANDSHAKES. An embedded start with this config makes none.
    Matcher made = Pattern.compile("warm-up: (\\d+) loopback connection").matcher(line);
    assertThat(made.find()).as(line).isTrue();
    assertThat(Integer.parseInt(made.group(1))).isBetween(1, OpsConfig.AUTO_HANDSHAKES);
    String started = awaitLog("Tollgate started", Duration.ofSeconds(5));
    assertThat(log.indexOf(line)).isLessThan(log.indexOf(started));
    assertThat(greeting(port)).isEqualTo("a");
  }

  @Test
  void warmupReloadsRehearsesOnceServingPutsNothingInForceAndAReloadStillApplies()
      throws Exception {
    int port = run(writeConfig("a", "warmup.reloads = 3"));
    assertThat(greeting(port)).isEqualTo("a");
    awaitLog("Reload rehearsal: 3 of 3 reload(s) built and dropped", Duration.ofSeconds(30));
    assertThat(greeting(port)).as("nothing rehearsed is in force").isEqualTo("a");
    assertThat(log).noneMatch(line -> line.contains("config version 2"));

    writeConfig("b", "warmup.reloads = 3");
    kill("HUP");
    awaitLog("config version 2", Duration.ofSeconds(20));
    assertThat(greeting(port)).isEqualTo("b");
  }

  @Test
  void sighupAndTheReloadCommandReloadAndABrokenFileKeepsTheOldConfig() throws Exception {
    int port = run(writeConfig("a", ""));
    assertThat(greeting(port)).isEqualTo("a");

    writeConfig("b", "");
    kill("HUP");
    awaitLog("config version 2", Duration.ofSeconds(20));
    assertThat(greeting(port)).isEqualTo("b");

    writeConfig("a", "");
    StringWriter out = new StringWriter();
    CommandLine cmd = TollgateCli.commandLine();
    cmd.setOut(new PrintWriter(out));
    cmd.setErr(new PrintWriter(new StringWriter()));
    assertThat(cmd.execute("reload", "--pid-file", dir.resolve("tollgate.pid").toString()))
        .isZero();
    assertThat(out.toString()).contains("sent SIGHUP to " + process.pid());
    awaitLog("config version 3", Duration.ofSeconds(20));
    assertThat(greeting(port)).isEqualTo("a");

    writeConfig("nope", "");
    kill("HUP");
    awaitLog("Reload rejected, config version 3 stays in force", Duration.ofSeconds(20));
    awaitLog("no pool named \"nope\"", Duration.ofSeconds(5));
    assertThat(greeting(port)).isEqualTo("a");
    assertThat(process.isAlive()).isTrue();
  }

  @Test
  void sigtermStopsAcceptingDrainsThenClosesTheRestAndExitsZero() throws Exception {
    int port = run(writeConfig("a", "timeouts { drain = 3s }"));
    Socket open = connect(port);
    BufferedReader in =
        new BufferedReader(new InputStreamReader(open.getInputStream(), StandardCharsets.US_ASCII));
    assertThat(in.readLine()).isEqualTo("a");

    long t0 = System.nanoTime();
    kill("TERM"); // not Process.destroy(): it also closes our end of the child's stderr
    awaitLog("stopped accepting", Duration.ofSeconds(10));
    assertThatThrownBy(() -> new Socket(InetAddress.getLoopbackAddress(), port).close())
        .isInstanceOf(ConnectException.class);
    // The open connection still works during the drain. (The backend echoes everything,
    // the ClientHello first.)
    open.getOutputStream().write("\nduring drain\n".getBytes(StandardCharsets.US_ASCII));
    String line;
    do {
      line = in.readLine();
    } while (line != null && !line.equals("during drain"));
    assertThat(line).isEqualTo("during drain");

    assertThat(process.waitFor(20, TimeUnit.SECONDS)).isTrue();
    long elapsedMs = (System.nanoTime() - t0) / 1_000_000;
    assertThat(process.exitValue()).as("exit code").isZero();
    assertThat(elapsedMs).as("waited for the drain").isGreaterThanOrEqualTo(2_500);
    assertThat(in.read()).as("cut at the end of the drain").isEqualTo(-1);
    awaitLog("closed 1 connection(s) still open after PT3S", Duration.ofSeconds(1));
    assertThat(dir.resolve("tollgate.pid")).doesNotExist();
    open.close();
  }

  /** The status of {@code GET path} on the admin endpoint, or -1 when it does not answer. */
  private static int probe(int adminPort, String path) {
    try {
      return HttpClient.newHttpClient()
          .send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + path))
                  .timeout(Duration.ofSeconds(10))
                  .build(),
              HttpResponse.BodyHandlers.discarding())
          .statusCode();
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  private static boolean refused(int port) {
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
      return false;
    } catch (IOException e) {
      return true;
    }
  }

  @Test
  void sigtermWithdrawsReadinessWhileStillAcceptingAndEachFurtherSignalCutsAPhaseShort()
      throws Exception {
    int port =
        run(
            writeConfig(
                "a",
                "admin { address = \"127.0.0.1:0\" }\n"
                    + "  timeouts { withdraw = 60s, drain = 60s }"));
    Matcher m =
        Pattern.compile("Admin endpoint on http://127\\.0\\.0\\.1:(\\d+)/")
            .matcher(awaitLog("Admin endpoint on", Duration.ofSeconds(10)));
    assertThat(m.find()).isTrue();
    int admin = Integer.parseInt(m.group(1));
    assertThat(probe(admin, "/ready")).isEqualTo(200);
    Socket open = connect(port);
    BufferedReader in =
        new BufferedReader(new InputStreamReader(open.getInputStream(), StandardCharsets.US_ASCII));
    assertThat(in.readLine()).isEqualTo("a");

    kill("TERM");
    TollgateFixture.await(() -> probe(admin, "/ready") == 503, Duration.ofSeconds(10));
    assertThat(greeting(port)).as("still accepting while withdrawn").isEqualTo("a");
    assertThat(probe(admin, "/live")).isEqualTo(200);

    kill("TERM"); // ends the withdraw period: the listener closes, the drain starts
    awaitLog("withdraw period cut short", Duration.ofSeconds(10));
    TollgateFixture.await(() -> refused(port), Duration.ofSeconds(10));
    assertThat(probe(admin, "/live")).as("live during the drain").isEqualTo(200);
    assertThat(probe(admin, "/ready")).isEqualTo(503);
    assertThat(process.isAlive()).isTrue();

    kill("TERM"); // ends the drain
    assertThat(process.waitFor(20, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).as("exit code").isZero();
    // Closed when the drain was cut short (a read timeout fails here): after the echoed
    // ClientHello, the end of the stream.
    while (in.readLine() != null) {
      // the backend echoes everything, the ClientHello first
    }
    awaitLog("closed 1 connection(s) still open after PT1M", Duration.ofSeconds(1));
    open.close();
  }

  @Test
  void sigtermWithNothingOpenExitsAtOnce() throws Exception {
    int port = run(writeConfig("a", ""));
    assertThat(greeting(port)).isEqualTo("a");
    // The greeting's connection is over at the backend too: nothing is open when SIGTERM comes.
    TollgateFixture.await(() -> a.liveConnections() == 0, Duration.ofSeconds(5));
    long t0 = System.nanoTime();
    kill("TERM");
    assertThat(process.waitFor(20, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).isZero();
    assertThat((System.nanoTime() - t0) / 1_000_000).isLessThan(10_000);
  }
}
