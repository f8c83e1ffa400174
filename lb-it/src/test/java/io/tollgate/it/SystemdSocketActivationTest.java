package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.LinuxSocket;
import io.netty.channel.unix.DomainDatagramSocketAddress;
import io.netty.channel.unix.DomainSocketAddress;
import io.tollgate.pki.CertificateAuthority;
import io.tollgate.pki.CertificateAuthority.KeyType;
import io.tollgate.testkit.TlsTestClient;
import io.tollgate.testkit.TlsTestServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tollgate run} under systemd socket activation, with real processes: a small launcher
 * (src/test/resources/.../socket_launcher.py) does what systemd does for a socket unit: it binds
 * and listens itself, keeps the socket open, and starts, stops and restarts Tollgate children that
 * get it as descriptor 3 with {@code LISTEN_FDS}, {@code LISTEN_PID} and {@code LISTEN_FDNAMES}. A
 * restart (SIGTERM, drain, new process) refuses no connection, nor does a {@code kill -9} and
 * restart, which loses only the connections the killed process had accepted. {@code READY=1} goes
 * to {@code NOTIFY_SOCKET} once the listener is bound.
 */
@Timeout(120)
class SystemdSocketActivationTest {
  private static final Path JAR = Path.of("..", "lb-core", "target", "tollgate.jar");
  private static final Duration START = Duration.ofSeconds(60);
  @RegisterExtension static final ClassResources resources = new ClassResources();
  private static CertificateAuthority ca;
  private static TlsTestServer backend;

  @TempDir Path dir;
  private Launcher launcher;
  private Process plain;

  @BeforeAll
  static void startBackend() {
    assumeTrue(Epoll.isAvailable(), "socket activation is epoll only");
    ca = CertificateAuthority.create("Tollgate IT CA", KeyType.EC_P256);
    backend =
        resources.add(
            TlsTestServer.start(
                ca.issue(KeyType.EC_P256, "pass.test"), TlsTestServer.greet("activated")));
  }

  @BeforeEach
  void needsTheJarAndPython() throws Exception {
    assumeTrue(Files.exists(JAR), "run through mvn verify: needs lb-core's packaged jar");
    Process p = new ProcessBuilder("python3", "--version").redirectErrorStream(true).start();
    assertThat(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0)
        .as("python3 runs the socket launcher (.ci/run installs it)")
        .isTrue();
  }

  @AfterEach
  void tearDown() throws Exception {
    if (launcher != null) {
      launcher.close();
    }
    if (plain != null) {
      plain.destroyForcibly();
      plain.waitFor(10, TimeUnit.SECONDS);
    }
  }

  private Path config(String listener, String address) throws IOException {
    return Files.writeString(
        dir.resolve("tollgate.conf"),
        String.format(
            """
            tollgate {
              listeners = [ { name = %s, address = "%s" } ]
              routes = [ { hosts = ["pass.test"], mode = passthrough, pool = pass } ]
              pools { pass { servers = ["127.0.0.1:%d"] } }
              timeouts { drain = 3s }
              warmup.handshakes = 0
            }
            """,
            listener, address, backend.port()));
  }

  private static List<String> tollgateCommand(Path config) {
    return List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1",
        "-Xmx256m",
        "-jar",
        JAR.toString(),
        "run",
        "--config",
        config.toString());
  }

  private static TlsTestClient.Connection connect(int port) {
    return TlsTestClient.connect(
        new InetSocketAddress(InetAddress.getLoopbackAddress(), port),
        "pass.test",
        "pass.test",
        ca.clientContext(),
        Duration.ofSeconds(30));
  }

  private static String greeting(int port) throws IOException {
    try (TlsTestClient.Connection c = connect(port)) {
      return firstLine(c);
    }
  }

  private static String firstLine(TlsTestClient.Connection c) throws IOException {
    return new BufferedReader(
            new InputStreamReader(c.socket().getInputStream(), StandardCharsets.UTF_8))
        .readLine();
  }

  @Test
  void aNamedSocketIsAdoptedByTheListenerOfThatName() throws Exception {
    // The config's own address would bind a new socket: the name takes precedence.
    Path config = config("main", "127.0.0.1:0");
    launcher = new Launcher(List.of("main=127.0.0.1:0"), tollgateCommand(config));
    int port = launcher.ports.get(0);
    long pid = launcher.start();
    launcher.awaitLog("listener main took over the inherited socket at /127.0.0.1:" + port, 1);
    assertThat(greeting(port)).isEqualTo("activated");
    assertThat(launcher.stop()).as("exit status of " + pid).isZero();
  }

  @Test
  void anUnnamedSocketIsAdoptedByTheListenerAtItsAddress() throws Exception {
    launcher = new Launcher(List.of("127.0.0.1:0"), List.of());
    int port = launcher.ports.get(0);
    // systemd without FileDescriptorName= names the socket "unknown" here (the launcher's
    // default); the listener is configured at the socket's address.
    launcher.command = tollgateCommand(config("edge", "127.0.0.1:" + port));
    launcher.start();
    launcher.awaitLog("listener edge took over the inherited socket at /127.0.0.1:" + port, 1);
    assertThat(greeting(port)).isEqualTo("activated");
  }

  /**
   * systemd's own tool: {@code systemd-socket-activate} listens, and the first connection starts
   * Tollgate on its socket; that connection waits in the queue meanwhile and is served.
   */
  @Test
  void theFirstConnectionStartsTollgateUnderSystemdSocketActivate() throws Exception {
    Path tool = Path.of("/usr/bin/systemd-socket-activate");
    assumeTrue(Files.isExecutable(tool), "systemd-socket-activate (Debian's systemd package)");
    int port;
    try (java.net.ServerSocket probe =
        new java.net.ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      port = probe.getLocalPort();
    }
    List<String> args =
        new ArrayList<>(List.of(tool.toString(), "--listen=127.0.0.1:" + port, "--fdname=main"));
    args.addAll(tollgateCommand(config("main", "127.0.0.1:0")));
    plain = new ProcessBuilder(args).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    List<String> log = new CopyOnWriteArrayList<>();
    Launcher.follow(plain.getErrorStream(), log::add, "socket-activate-err");
    TollgateFixture.await(
        () -> log.stream().anyMatch(l -> l.contains("Listening on 127.0.0.1:" + port)),
        START,
        () -> String.join("\n", log));
    assertThat(log).noneMatch(l -> l.contains("Tollgate started"));
    assertThat(greeting(port)).isEqualTo("activated");
    assertThat(log).anyMatch(l -> l.contains("listener main took over the inherited socket"));
  }

  @Test
  void aRestartUnderLoadRefusesNoConnectionAndAGracefulStopDrains() throws Exception {
    Path config = config("main", "127.0.0.1:0");
    launcher = new Launcher(List.of("main=127.0.0.1:0"), tollgateCommand(config));
    int port = launcher.ports.get(0);
    long first = launcher.start();
    launcher.awaitLog("Tollgate started", 1);
    try (Load load = new Load(port)) {
      load.awaitServed(50);
      List<Long> pids = new ArrayList<>(List.of(first));
      for (int restart = 1; restart <= 2; restart++) {
        // Open on the old process across its stop: the drain lets it finish.
        try (TlsTestClient.Connection held = connect(port)) {
          assertThat(firstLine(held)).isEqualTo("activated");
          launcher.signal("term");
          launcher.awaitLog("Shutting down: stopped accepting", restart);
          held.socket().getOutputStream().write("still here\n".getBytes(StandardCharsets.UTF_8));
          assertThat(firstLine(held)).isEqualTo("still here");
        }
        assertThat(launcher.awaitExit()).isZero();
        // Connections made now wait in the socket's queue, which the launcher keeps open.
        pids.add(launcher.start());
        launcher.awaitLog("Tollgate started", restart + 1);
        load.awaitServed(load.served.get() + 50);
      }
      load.stop();
      System.out.println("restart under load (2 restarts): " + load);
      assertThat(pids).doesNotHaveDuplicates();
      assertThat(load.refused.get()).as(load.toString()).isZero();
      assertThat(load.lost.get()).as(load.toString()).isZero();
      assertThat(load.served.get()).as(load.toString()).isEqualTo(load.attempted.get());
    }
  }

  @Test
  void killMinusNineLosesTheKilledProcessesConnectionsButRefusesNone() throws Exception {
    Path config = config("main", "127.0.0.1:0");
    launcher = new Launcher(List.of("main=127.0.0.1:0"), tollgateCommand(config));
    int port = launcher.ports.get(0);
    launcher.start();
    launcher.awaitLog("Tollgate started", 1);
    try (Load load = new Load(port);
        TlsTestClient.Connection held = connect(port)) {
      assertThat(firstLine(held)).isEqualTo("activated");
      load.awaitServed(50);
      assertThat(launcher.kill()).isEqualTo(137);
      // In flight on the killed process: gone with it.
      InputStream in = held.socket().getInputStream();
      held.socket().setSoTimeout(10_000);
      boolean lost;
      try {
        lost = in.read() == -1;
      } catch (IOException e) {
        lost = !(e instanceof java.net.SocketTimeoutException);
      }
      assertThat(lost).as("a connection open on the killed process ends").isTrue();

      launcher.start();
      launcher.awaitLog("Tollgate started", 2);
      long restartedAt = System.nanoTime();
      load.awaitServed(load.served.get() + 100);
      load.stop();
      System.out.println("kill -9 and restart under load: " + load);
      assertThat(load.refused.get()).as(load.toString()).isZero();
      // Only connections the killed process had accepted can be lost; the socket queue kept the
      // rest, and nothing begun after the restart fails.
      assertThat(load.lostSince(restartedAt)).as(load.toString()).isZero();
      assertThat(load.served.get() + load.lost.get()).isEqualTo(load.attempted.get());
    }
  }

  @Test
  void readyIsSentToNotifySocketOnceTheListenerIsBoundAndStoppingAtSigterm() throws Exception {
    Path socketPath = dir.resolve("notify");
    LinuxSocket notify = LinuxSocket.newSocketDomainDgram();
    try {
      notify.bind(new DomainSocketAddress(socketPath.toString()));
      ProcessBuilder pb =
          new ProcessBuilder(tollgateCommand(config("main", "127.0.0.1:0")))
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .redirectError(ProcessBuilder.Redirect.DISCARD);
      pb.environment().put("NOTIFY_SOCKET", socketPath.toString());
      plain = pb.start();

      String ready = receive(notify, Duration.ofSeconds(60));
      assertThat(ready).startsWith("READY=1\n");
      Matcher m = Pattern.compile("STATUS=serving main=/127\\.0\\.0\\.1:(\\d+)").matcher(ready);
      assertThat(m.find()).as(ready).isTrue();
      // Bound before READY=1: the port it names serves at once.
      assertThat(greeting(Integer.parseInt(m.group(1)))).isEqualTo("activated");

      new ProcessBuilder("kill", "-TERM", Long.toString(plain.pid())).start().waitFor();
      assertThat(receive(notify, Duration.ofSeconds(30))).startsWith("STOPPING=1\n");
      assertThat(plain.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(plain.exitValue()).isZero();
    } finally {
      notify.close();
    }
  }

  /** One datagram, awaited with a bound (the socket does not block). */
  private static String receive(LinuxSocket socket, Duration limit) throws Exception {
    ByteBuffer buf = ByteBuffer.allocateDirect(4096);
    long deadline = System.nanoTime() + limit.toNanos();
    while (System.nanoTime() < deadline) {
      DomainDatagramSocketAddress from = socket.recvFromDomainSocket(buf, 0, buf.capacity());
      if (from != null) {
        byte[] bytes = new byte[from.receivedAmount()];
        buf.get(0, bytes);
        return new String(bytes, StandardCharsets.UTF_8);
      }
      Thread.sleep(10);
    }
    throw new AssertionError("no notification within " + limit);
  }

  /** The socket launcher and, through it, the Tollgate children. */
  private final class Launcher implements AutoCloseable {
    final Process process;
    final List<Integer> ports = new ArrayList<>();
    final List<String> log = new CopyOnWriteArrayList<>();
    private final BlockingQueue<String> answers = new LinkedBlockingQueue<>();
    private final OutputStream commands;
    List<String> command;

    Launcher(List<String> listens, List<String> command) throws Exception {
      this.command = command;
      List<String> args = new ArrayList<>(List.of("python3", script()));
      listens.forEach(l -> args.addAll(List.of("--listen", l)));
      ProcessBuilder pb = new ProcessBuilder(args);
      process = pb.start();
      commands = process.getOutputStream();
      follow(process.getInputStream(), answers::add, "launcher-out");
      follow(process.getErrorStream(), log::add, "launcher-err");
      String listening = answer();
      assertThat(listening).startsWith("listening ");
      for (String p : listening.substring("listening ".length()).split(" ")) {
        ports.add(Integer.parseInt(p));
      }
    }

    private static String script() throws URISyntaxException {
      return Path.of(SystemdSocketActivationTest.class.getResource("socket_launcher.py").toURI())
          .toString();
    }

    private static void follow(InputStream in, java.util.function.Consumer<String> to, String n) {
      Thread t =
          new Thread(
              () -> {
                try (BufferedReader r =
                    new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                  for (String line; (line = r.readLine()) != null; ) {
                    to.accept(line);
                  }
                } catch (IOException e) {
                  // process gone
                }
              },
              n);
      t.setDaemon(true);
      t.start();
    }

    private String answer() throws InterruptedException {
      String a = answers.poll(START.toSeconds(), TimeUnit.SECONDS);
      assertThat(a).as("launcher answer; its log:\n" + String.join("\n", log)).isNotNull();
      return a;
    }

    private void send(String line) throws IOException {
      commands.write((line + "\n").getBytes(StandardCharsets.UTF_8));
      commands.flush();
    }

    /** Starts a Tollgate child; returns its pid. */
    long start() throws Exception {
      send("start " + String.join("\t", command));
      String a = answer();
      assertThat(a).startsWith("started ");
      return Long.parseLong(a.substring("started ".length()));
    }

    /** SIGTERM and wait: its exit status. */
    int stop() throws Exception {
      signal("term");
      return awaitExit();
    }

    /** SIGKILL and wait: its exit status. */
    int kill() throws Exception {
      signal("kill");
      return awaitExit();
    }

    void signal(String verb) throws Exception {
      send(verb);
      assertThat(answer()).startsWith("signalled ");
    }

    int awaitExit() throws Exception {
      send("wait");
      String a = answer();
      assertThat(a).startsWith("exited ");
      return Integer.parseInt(a.split(" ")[2]);
    }

    /** Waits until {@code text} has been logged {@code times} times (by all children). */
    void awaitLog(String text, int times) throws InterruptedException {
      TollgateFixture.await(
          () -> log.stream().filter(l -> l.contains(text)).count() >= times,
          START,
          () -> "\"" + text + "\" x" + times + " in:\n" + String.join("\n", log));
    }

    @Override
    public void close() throws Exception {
      try {
        send("quit");
      } catch (IOException e) {
        // gone already
      }
      if (!process.waitFor(20, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  /**
   * New TLS connections every few milliseconds (at most 64 at once, 3000 in all), each handshakes,
   * reads the backend's greeting and closes; counted by outcome.
   */
  private static final class Load implements AutoCloseable {
    final AtomicInteger attempted = new AtomicInteger();
    final AtomicInteger served = new AtomicInteger();
    final AtomicInteger refused = new AtomicInteger();
    final AtomicInteger lost = new AtomicInteger();
    private final List<Long> lostStartedAt = new CopyOnWriteArrayList<>();
    private final List<String> firstErrors = new CopyOnWriteArrayList<>();
    private final Semaphore inFlight = new Semaphore(64);
    private final ScheduledExecutorService tick = Executors.newSingleThreadScheduledExecutor();
    private final ExecutorService clients = Executors.newFixedThreadPool(64);
    private final int port;

    Load(int port) {
      this.port = port;
      tick.scheduleAtFixedRate(this::next, 0, 4, TimeUnit.MILLISECONDS);
    }

    private void next() {
      if (attempted.get() >= 3000 || !inFlight.tryAcquire()) {
        return;
      }
      attempted.incrementAndGet();
      clients.execute(
          () -> {
            long startedAt = System.nanoTime();
            try {
              if ("activated".equals(greeting(port))) {
                served.incrementAndGet();
              } else {
                failed(lost, startedAt, "wrong greeting");
              }
            } catch (UncheckedIOException | IOException e) {
              Throwable cause = e instanceof UncheckedIOException ? e.getCause() : e;
              failed(cause instanceof ConnectException ? refused : lost, startedAt, e.toString());
            } finally {
              inFlight.release();
            }
          });
    }

    private void failed(AtomicInteger counter, long startedAt, String why) {
      counter.incrementAndGet();
      if (counter == lost) {
        lostStartedAt.add(startedAt);
      }
      if (firstErrors.size() < 10) {
        firstErrors.add(why);
      }
    }

    long lostSince(long nanoTime) {
      return lostStartedAt.stream().filter(t -> t - nanoTime >= 0).count();
    }

    void awaitServed(int n) throws InterruptedException {
      TollgateFixture.await(() -> served.get() >= n, START, this::toString);
    }

    /** Stops starting connections and waits for those in flight. */
    void stop() throws InterruptedException {
      tick.shutdownNow();
      tick.awaitTermination(10, TimeUnit.SECONDS);
      clients.shutdown();
      assertThat(clients.awaitTermination(60, TimeUnit.SECONDS)).isTrue();
    }

    @Override
    public void close() throws InterruptedException {
      tick.shutdownNow();
      clients.shutdownNow();
      clients.awaitTermination(30, TimeUnit.SECONDS);
    }

    @Override
    public String toString() {
      return String.format(
          "attempted %d, served %d, refused %d, lost %d; first errors %s",
          attempted.get(), served.get(), refused.get(), lost.get(), firstErrors);
    }
  }
}
