package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tollgate.pki.CertificateAuthority;
import io.tollgate.pki.CertificateAuthority.KeyType;
import io.tollgate.testkit.TlsTestClient;
import io.tollgate.testkit.TlsTestServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * With the JDK provider (the fallback when BoringSSL cannot load), a TLS 1.2 client cannot
 * renegotiate: the JDK client starts a renegotiation with a second {@code startHandshake()}, and
 * Tollgate refuses it. The JDK reads its switch once per process, when the first server handshake
 * starts, so this runs {@code tollgate run} in its own JVM, as an operator would.
 */
@Timeout(120)
class JdkRenegotiationTest {
  private static final Path JAR = Path.of("..", "lb-core", "target", "tollgate.jar");
  private static final Pattern STARTED = Pattern.compile("main=/127\\.0\\.0\\.1:(\\d+)");

  @TempDir Path dir;
  private final List<String> log = new CopyOnWriteArrayList<>();
  private CertificateAuthority ca;
  private TlsTestServer backend;
  private Process process;

  @BeforeEach
  void setUp() throws IOException {
    assumeTrue(Files.exists(JAR), "run through mvn verify: needs lb-core's packaged jar");
    ca = CertificateAuthority.create("Tollgate Renegotiation CA", KeyType.EC_P256);
    Path chain = ca.issue(KeyType.EC_P256, "web.test").writePem(dir, "web").certificateChain();
    // A complete chain by appending the root (no trusted-roots needed).
    Files.writeString(
        chain,
        Files.readString(ca.writeCertificatePem(dir.resolve("ca.pem"))),
        StandardOpenOption.APPEND);
    backend = TlsTestServer.startPlain(TlsTestServer.echo());
  }

  @AfterEach
  void tearDown() throws InterruptedException {
    if (process != null) {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
    if (backend != null) {
      backend.close();
    }
  }

  @Test
  void aClientInitiatedRenegotiationIsRefused() throws Exception {
    int port = run();
    try (TlsTestClient.Connection c = connect(port)) {
      SSLSocket socket = c.socket();
      assertThat(echo(socket, "before")).isEqualTo("before");
      assertThatThrownBy(
              () -> {
                socket.startHandshake();
                echo(socket, "after");
              })
          .isInstanceOf(IOException.class);
    }
  }

  @Test
  void anExplicitSettingOfTheJdkPropertyIsLeftAlone() throws Exception {
    // The operator's own choice wins; this also shows the client above really renegotiates.
    int port = run("-Djdk.tls.rejectClientInitiatedRenegotiation=false");
    try (TlsTestClient.Connection c = connect(port)) {
      SSLSocket socket = c.socket();
      assertThat(echo(socket, "before")).isEqualTo("before");
      socket.startHandshake();
      assertThat(echo(socket, "after")).isEqualTo("after");
    }
  }

  private TlsTestClient.Connection connect(int port) {
    return TlsTestClient.connect(
        new InetSocketAddress(InetAddress.getLoopbackAddress(), port),
        "web.test",
        "web.test",
        ca.clientContext(),
        Duration.ofSeconds(10),
        List.of("TLSv1.2"));
  }

  private static String echo(SSLSocket socket, String line) throws IOException {
    socket.getOutputStream().write((line + "\n").getBytes(StandardCharsets.US_ASCII));
    socket.getOutputStream().flush();
    StringBuilder received = new StringBuilder();
    for (int b; (b = socket.getInputStream().read()) != '\n'; ) {
      if (b == -1) {
        throw new IOException("closed after \"" + received + "\"");
      }
      received.append((char) b);
    }
    return received.toString();
  }

  /** Starts {@code tollgate run} with the JDK provider; returns the port it listens on. */
  private int run(String... jvmOptions) throws Exception {
    Path config =
        Files.writeString(
            dir.resolve("tollgate.conf"),
            String.format(
                """
        tollgate {
          listeners = [ { name = main, address = "127.0.0.1:0" } ]
          routes = [ { hosts = ["web.test"], mode = offload, pool = web,
                       certificate { chain = "web.pem", key = "web.key" } } ]
          pools { web { servers = ["127.0.0.1:%d"] } }
          warmup.handshakes = 0
        }
        """,
                backend.port()));
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Dtollgate.tls.provider=jdk");
    command.addAll(List.of(jvmOptions));
    command.addAll(List.of("-jar", JAR.toString(), "run", "--config", config.toString()));
    process = new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    ProcessLog.follow(process, log);
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < deadline) {
      for (String line : log) {
        Matcher m = STARTED.matcher(line);
        if (line.contains("Tollgate started") && m.find()) {
          return Integer.parseInt(m.group(1));
        }
      }
      Thread.sleep(20);
    }
    throw new AssertionError("Tollgate did not start:\n" + String.join("\n", log));
  }
}
