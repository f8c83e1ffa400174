package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.channel.epoll.Epoll;
import io.tollgate.cli.TollgateCli;
import io.tollgate.pki.CertificateAuthority;
import io.tollgate.pki.CertificateAuthority.KeyType;
import io.tollgate.testkit.DataPattern;
import io.tollgate.testkit.FreePorts;
import io.tollgate.testkit.TlsTestClient;
import io.tollgate.testkit.TlsTestServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Live upgrade of a real {@code tollgate run} process (the packaged jar) under load: clients open
 * new TLS connections every few milliseconds (passthrough and offload) while long transfers are
 * held open across each switch; {@code tollgate upgrade} and {@code POST /upgrade} replace the
 * process again and again. Not one connection is refused or reset, every long transfer finishes on
 * the old process with both SHA-256 intact, and the pid changes each time. A new process that
 * cannot start leaves the old one serving, and the command says why.
 *
 * <p>{@value #DEFAULT_UPGRADES} upgrades by default (each starts a JVM, about 5 s on a loaded
 * machine); {@code -Dtollgate.it.upgrades=N} for another count, which {@code
 * scripts/restart-under-load.sh} uses. {@code -Dtollgate.it.upgrade-report=FILE} writes the counts.
 */
@Timeout(300)
class UpgradeUnderLoadTest {
  private static final int DEFAULT_UPGRADES = 10;
  private static final long TRANSFER_BYTES = 4L * 1024 * 1024;
  private static final String JVM_OPTION = "-XX:TieredStopAtLevel=1";
  private static final Path JAR = Path.of("..", "lb-core", "target", "tollgate.jar");
  private static final Pattern STARTED = Pattern.compile("main=/127\\.0\\.0\\.1:(\\d+)");

  @RegisterExtension static final ClassResources resources = new ClassResources();
  @TempDir static Path dir;
  private static CertificateAuthority ca;
  private static TlsTestServer passGreeter;
  private static TlsTestServer offGreeter;
  private static TlsTestServer passBulk;
  private static TlsTestServer offBulk;
  private static TlsTestServer.Sha256Exchange passExchange;
  private static TlsTestServer.Sha256Exchange offExchange;

  private final List<String> log = new CopyOnWriteArrayList<>();
  private final List<Long> pids = new ArrayList<>();
  private Process process;
  private Path pidFile;
  private Path config;

  @BeforeAll
  static void backends() {
    assumeTrue(Epoll.isAvailable(), "upgrade needs epoll");
    assumeTrue(Files.exists(JAR), "run through mvn verify: needs lb-core's packaged jar");
    ca = CertificateAuthority.create("Tollgate Upgrade CA", KeyType.EC_P256);
    ca.issue(KeyType.EC_P256, "off.test", "bulk-off.test").writePem(dir, "off");
    passExchange = TlsTestServer.sha256Exchange(TRANSFER_BYTES);
    offExchange = TlsTestServer.sha256Exchange(TRANSFER_BYTES);
    passGreeter =
        resources.add(
            TlsTestServer.start(
                ca.issue(KeyType.EC_P256, "pass.test"), TlsTestServer.greet("pass")));
    passBulk =
        resources.add(
            TlsTestServer.start(ca.issue(KeyType.EC_P256, "bulk-pass.test"), passExchange));
    offGreeter = resources.add(TlsTestServer.startPlain(TlsTestServer.greet("off")));
    offBulk = resources.add(TlsTestServer.startPlain(offExchange));
  }

  @AfterEach
  void stopEveryGeneration() throws InterruptedException {
    for (long pid : pids) {
      ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
    }
    if (process != null) {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void upgradesUnderLoadRefuseNothingResetNothingAndDrainLongTransfers() throws Exception {
    int upgrades = Integer.getInteger("tollgate.it.upgrades", DEFAULT_UPGRADES);
    int adminPort = FreePorts.next();
    int port = start(writeConfig("", "admin { address = \"127.0.0.1:" + adminPort + "\" }"));
    List<HeldTransfer> passTransfers = new ArrayList<>();
    List<HeldTransfer> offTransfers = new ArrayList<>();
    int servedAfterLast;
    try (ConnectionChurn pass = churn(port, "pass.test", "pass");
        ConnectionChurn off = churn(port, "off.test", "off")) {
      for (int i = 0; i < upgrades; i++) {
        HeldTransfer p = new HeldTransfer(port, "bulk-pass.test", ca, TRANSFER_BYTES);
        HeldTransfer o = new HeldTransfer(port, "bulk-off.test", ca, TRANSFER_BYTES);
        p.awaitHalfSent();
        o.awaitHalfSent();
        long before = currentPid();
        if (i % 2 == 0) {
          String out = upgradeCommand(0);
          assertThat(out).contains("upgraded: process");
        } else {
          HttpResponse<String> answer = postUpgrade(adminPort);
          assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
          assertThat(answer.body()).contains("\"ok\":true");
        }
        long after = currentPid();
        assertThat(after)
            .as("upgrade %d: the pid file names a new process", i)
            .isNotEqualTo(before);
        assertThat(ProcessHandle.of(after).map(ProcessHandle::isAlive)).contains(true);
        assertThat(ProcessHandle.of(after).flatMap(h -> h.info().arguments()).orElseThrow())
            .as("the new process runs with the old one's JVM options")
            .contains(JVM_OPTION);
        pids.add(after);
        // The old process holds these two; it finishes them while it drains.
        p.resume();
        o.resume();
        passTransfers.add(p);
        offTransfers.add(o);
      }
      servedAfterLast = awaitMoreServed("the last process serves new connections", pass, off);
      pass.close();
      off.close();
      List<HeldTransfer> all = new ArrayList<>(passTransfers);
      all.addAll(offTransfers);
      int intact = 0;
      for (HeldTransfer t : all) {
        HeldTransfer.Outcome got = t.outcome().get(120, TimeUnit.SECONDS);
        assertThat(got.failure()).as("a long transfer failed").isNull();
        assertThat(got.bytes()).isEqualTo(TRANSFER_BYTES);
        assertThat(got.sha256())
            .isEqualTo(DataPattern.sha256Hex(DataPattern.SERVER_SEED, TRANSFER_BYTES));
        intact++;
      }
      String clientSha = DataPattern.sha256Hex(DataPattern.CLIENT_SEED, TRANSFER_BYTES);
      for (TlsTestServer.Sha256Exchange exchange : List.of(passExchange, offExchange)) {
        TollgateFixture.await(() -> exchange.received().size() >= upgrades, Duration.ofSeconds(30));
        assertThat(exchange.received())
            .allSatisfy(
                r -> {
                  assertThat(r.bytes()).isEqualTo(TRANSFER_BYTES);
                  assertThat(r.sha256()).isEqualTo(clientSha);
                });
      }
      String summary =
          String.format(
              "upgrades=%d pids=%s connections attempted=%d served=%d refused=%d reset=%d other=%d"
                  + " (after the last upgrade: %d served); long transfers=%d intact=%d",
              upgrades,
              allPids(),
              pass.attempted() + off.attempted(),
              pass.served() + off.served(),
              pass.refused() + off.refused(),
              pass.reset() + off.reset(),
              pass.other().size() + off.other().size(),
              servedAfterLast,
              all.size(),
              intact);
      System.out.println("upgrade under load: " + summary);
      String report = System.getProperty("tollgate.it.upgrade-report");
      if (report != null) {
        Files.writeString(Path.of(report), summary + "\n");
      }
      assertNothingFailed(summary, pass, off);
      assertThat(pass.served()).isPositive();
      assertThat(off.served()).isPositive();
    }
    assertThat(passBulk.failures()).isEmpty();
    assertThat(offBulk.failures()).isEmpty();
    // Every old process exits once its transfers are done (drain 30s at most).
    List<Long> old = allPids().subList(0, upgrades);
    TollgateFixture.await(
        () -> old.stream().noneMatch(pid -> ProcessHandle.of(pid).isPresent()),
        Duration.ofSeconds(40),
        () -> "old processes still running: " + old);
    assertThat(process.exitValue()).as("the first process exits 0 after its drain").isZero();
  }

  @Test
  void aFailedUpgradeLeavesTheOldProcessServingAndTheCommandSaysWhy() throws Exception {
    int adminPort = FreePorts.next();
    String admin = "admin { address = \"127.0.0.1:" + adminPort + "\" }";
    int port = start(writeConfig("", admin));
    long pid = currentPid();
    try (ConnectionChurn pass = churn(port, "pass.test", "pass")) {
      // The config on disk became invalid since the process started.
      writeConfig("{ hosts = [\"broken.test\"], mode = passthrough, pool = nope }", admin);
      StringWriter err = new StringWriter();
      CommandLine cmd = cli(new StringWriter(), err);
      assertThat(cmd.execute("upgrade", "--pid-file", pidFile.toString())).isEqualTo(1);
      assertThat(err.toString())
          .contains("upgrade failed; process " + pid + " keeps serving")
          .contains("no pool named \"nope\"");
      assertThat(currentPid()).isEqualTo(pid);
      assertThat(process.isAlive()).isTrue();
      assertThat(greeting(port)).isEqualTo("pass");
      // Withdrawn while the upgrade ran, ready again once it failed; reloads are taken again.
      assertThat(getReady(adminPort)).isEqualTo(200);
      // Fixed, the same process reloads and upgrades.
      writeConfig("", admin);
      HttpResponse<String> reload = postReload(adminPort);
      assertThat(reload.statusCode()).as(reload.body()).isEqualTo(200);
      upgradeCommand(0);
      assertThat(currentPid()).isNotEqualTo(pid);
      pids.add(currentPid());
      assertThat(greeting(port)).isEqualTo("pass");
      pass.close();
      assertNothingFailed("", pass);
    }
  }

  /**
   * {@code tollgate run} warms up by default (1000 loopback handshakes): in an upgrade the new
   * process does so before it takes the sockets over, while the old one goes on serving. Nothing is
   * refused or reset across the switch, and the clients' connections are served throughout, also
   * while the successor warms up.
   */
  @Test
  void withTheDefaultWarmUpTheOldProcessServesWhileTheNewOneWarmsUp() throws Exception {
    int adminPort = FreePorts.next();
    int port = start(writeConfig("", "admin { address = \"127.0.0.1:" + adminPort + "\" }", ""));
    long before = currentPid();
    try (ConnectionChurn pass = churn(port, "pass.test", "pass");
        ConnectionChurn off = churn(port, "off.test", "off")) {
      TollgateFixture.await(() -> pass.served() > 5 && off.served() > 5, Duration.ofSeconds(30));
      int servedAtUpgrade = pass.served() + off.served();
      CompletableFuture<String> upgraded = CompletableFuture.supplyAsync(() -> upgradeCommand(0));
      // A reload while the sockets are being handed over is refused: one that closed or bound a
      // listener could make a socket number name another socket by the time it is sent. (The new
      // process starts a JVM and warms up first: the upgrade is still running here.)
      awaitLog("starting a new Tollgate process");
      HttpResponse<String> reload = postReload(adminPort);
      assertThat(reload.statusCode()).as(reload.body()).isEqualTo(422);
      assertThat(reload.body()).contains("an upgrade is in progress; not reloading");
      // The first warm-up line is the first process's, before it started; the second is the
      // successor's, written before it answers the hand-off with "started".
      String warmedUp = awaitLog("warm-up: ", 2);
      int servedAtWarmUp = pass.served() + off.served();
      Matcher made = Pattern.compile("warm-up: (\\d+) loopback connection").matcher(warmedUp);
      assertThat(made.find()).as(warmedUp).isTrue();
      assertThat(Integer.parseInt(made.group(1))).isPositive();
      assertThat(upgraded.get(120, TimeUnit.SECONDS)).contains("upgraded: process");
      // One pipe carries both processes' log, written as it happens: the old process hands over
      // only after the successor's warm-up.
      assertThat(log.indexOf(warmedUp))
          .as("the successor warms up before the old process hands over")
          .isLessThan(log.indexOf(awaitLog("accepts now; this process")));
      long after = currentPid();
      assertThat(after).isNotEqualTo(before);
      pids.add(after);
      awaitMoreServed("the new process serves", pass, off);
      pass.close();
      off.close();
      assertThat(servedAtWarmUp)
          .as("served by the old process while the successor warmed up")
          .isGreaterThan(servedAtUpgrade);
      assertNothingFailed("", pass, off);
    }
    assertThat(process.waitFor(40, TimeUnit.SECONDS)).as("the old process drains, exits").isTrue();
    assertThat(process.exitValue()).isZero();
  }

  @Test
  void onNioTheUpgradeIsRefusedAsUnsupported() throws Exception {
    int port = start(writeConfig("", "io { transport = nio }"));
    long pid = currentPid();
    StringWriter err = new StringWriter();
    assertThat(cli(new StringWriter(), err).execute("upgrade", "--pid-file", pidFile.toString()))
        .isEqualTo(1);
    assertThat(err.toString()).contains("upgrade needs the epoll transport").contains("nio");
    assertThat(currentPid()).isEqualTo(pid);
    assertThat(greeting(port)).isEqualTo("pass");
  }

  /**
   * Waits until the churns have served 20 connections more than now; returns how many more.
   *
   * @param what what that shows, for the failure message
   */
  private static int awaitMoreServed(String what, ConnectionChurn... churns)
      throws InterruptedException {
    IntSupplier served = () -> Arrays.stream(churns).mapToInt(ConnectionChurn::served).sum();
    int before = served.getAsInt();
    TollgateFixture.await(
        () -> served.getAsInt() > before + 20, Duration.ofSeconds(30), () -> what);
    return served.getAsInt() - before;
  }

  /** No connection of the churns was refused, reset or failed otherwise. */
  private static void assertNothingFailed(String context, ConnectionChurn... churns) {
    for (ConnectionChurn churn : churns) {
      assertThat(churn.refused()).as("refused %s", context).isZero();
      assertThat(churn.reset()).as("reset %s", context).isZero();
      assertThat(churn.other()).as("other failures %s", context).isEmpty();
    }
  }

  private static ConnectionChurn churn(int port, String name, String greeting) {
    return new ConnectionChurn(
        port, name, greeting, ca, Duration.ofMillis(5), 50_000, Duration.ofMinutes(4));
  }

  /**
   * The listener asks for port 0: a successor finds its socket by the listener's name, so the port
   * the first process got stays.
   */
  private Path writeConfig(String extraRoute, String extra) throws IOException {
    return writeConfig(extraRoute, extra, "warmup.handshakes = 0");
  }

  /** As above; {@code warmup} is the config's warm-up line ("" for the default). */
  private Path writeConfig(String extraRoute, String extra, String warmup) throws IOException {
    config = dir.resolve("tollgate.conf");
    String off = dir.resolve("off").toString();
    return Files.writeString(
        config,
        String.format(
            """
            tollgate {
              listeners = [ { name = main, address = "127.0.0.1:0" } ]
              timeouts { drain = 30s }
              %s
              routes = [
                { hosts = ["pass.test"], mode = passthrough, pool = pass }
                { hosts = ["bulk-pass.test"], mode = passthrough, pool = passbulk }
                { hosts = ["off.test"], mode = offload, pool = off,
                  certificate { chain = "%s.pem", key = "%s.key" } }
                { hosts = ["bulk-off.test"], mode = offload, pool = offbulk,
                  certificate { chain = "%s.pem", key = "%s.key" } }
                %s
              ]
              pools {
                pass { servers = ["127.0.0.1:%d"] }
                passbulk { servers = ["127.0.0.1:%d"] }
                off { servers = ["127.0.0.1:%d"] }
                offbulk { servers = ["127.0.0.1:%d"] }
              }
              %s
            }
            """,
            warmup,
            off,
            off,
            off,
            off,
            extraRoute,
            passGreeter.port(),
            passBulk.port(),
            offGreeter.port(),
            offBulk.port(),
            extra));
  }

  /** Starts {@code tollgate run} and returns the port it listens on. */
  private int start(Path configFile) throws Exception {
    pidFile = dir.resolve("tollgate.pid");
    Files.deleteIfExists(pidFile);
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    process =
        new ProcessBuilder(
                java,
                // Quick to start on a busy machine; every generation inherits them.
                JVM_OPTION,
                "-XX:+UseSerialGC",
                "-jar",
                JAR.toString(),
                "run",
                "--config",
                configFile.toString(),
                "--pid-file",
                pidFile.toString())
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start();
    // Every generation inherits this pipe, so the log of all of them arrives here.
    ProcessLog.follow(process, log);
    String started = awaitLog("Tollgate started");
    Matcher m = STARTED.matcher(started);
    assertThat(m.find()).as(started).isTrue();
    TollgateFixture.await(
        () -> contentOf(pidFile).equals(process.pid() + "\n"), Duration.ofSeconds(20));
    pids.add(process.pid());
    return Integer.parseInt(m.group(1));
  }

  private String awaitLog(String text) throws InterruptedException {
    return awaitLog(text, 1);
  }

  /** The {@code nth} log line that contains {@code text}, waited for up to 60 s. */
  private String awaitLog(String text, int nth) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      int seen = 0;
      for (String line : log) {
        if (line.contains(text) && ++seen == nth) {
          return line;
        }
      }
      Thread.sleep(20);
    }
    throw new AssertionError(
        "no log line " + nth + " with \"" + text + "\" in:\n" + String.join("\n", log));
  }

  private long currentPid() throws IOException {
    return Long.parseLong(Files.readString(pidFile).strip());
  }

  private List<Long> allPids() {
    return List.copyOf(pids);
  }

  private static String contentOf(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      return "";
    }
  }

  private static CommandLine cli(StringWriter out, StringWriter err) {
    CommandLine cmd = TollgateCli.commandLine();
    cmd.setOut(new PrintWriter(out));
    cmd.setErr(new PrintWriter(err));
    return cmd;
  }

  /** Runs {@code tollgate upgrade}, expects {@code exit}, returns what it printed. */
  private String upgradeCommand(int exit) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int got = cli(out, err).execute("upgrade", "--pid-file", pidFile.toString());
    assertThat(got)
        .as("upgrade: " + out + err + "\nlog:\n" + String.join("\n", log))
        .isEqualTo(exit);
    return out.toString() + err;
  }

  private static int getReady(int adminPort) throws Exception {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/ready"))
                .timeout(Duration.ofSeconds(10))
                .build(),
            HttpResponse.BodyHandlers.discarding())
        .statusCode();
  }

  private static HttpResponse<String> postReload(int adminPort) throws Exception {
    return post(adminPort, "/reload", Duration.ofSeconds(30));
  }

  private static HttpResponse<String> postUpgrade(int adminPort) throws Exception {
    return post(adminPort, "/upgrade", Duration.ofSeconds(90));
  }

  private static HttpResponse<String> post(int adminPort, String path, Duration timeout)
      throws Exception {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + path))
                .timeout(timeout)
                .header("X-Tollgate-Admin", "1")
                .POST(HttpRequest.BodyPublishers.noBody())
                .build(),
            HttpResponse.BodyHandlers.ofString());
  }

  private static String greeting(int port) throws Exception {
    try (TlsTestClient.Connection c = TlsTestClient.connect(port, "pass.test", ca)) {
      return new BufferedReader(
              new InputStreamReader(c.socket().getInputStream(), StandardCharsets.UTF_8))
          .readLine();
    }
  }
}
