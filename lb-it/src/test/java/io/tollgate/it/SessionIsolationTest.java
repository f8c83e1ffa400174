package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.tollgate.config.ConfigLoader;
import io.tollgate.pki.CertificateAuthority;
import io.tollgate.pki.CertificateAuthority.KeyType;
import io.tollgate.pki.IssuedCertificate;
import io.tollgate.testkit.CommandLineTools;
import io.tollgate.testkit.CommandLineTools.ProcessResult;
import io.tollgate.testkit.TlsTestClient;
import io.tollgate.testkit.TlsTestServer;
import io.tollgate.tls.TlsProvider;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.X509ExtendedKeyManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * TLS sessions never cross routes: a session (TLS 1.2 ticket or session ID, TLS 1.3 ticket) resumes
 * only on the route that made it, under the same client-auth policy and client CA; any other
 * attempt is a full handshake, in which a {@code require} route demands a certificate. Checked with
 * {@code openssl s_client -sess_out/-sess_in} (skipped without openssl) and the JDK client. Every
 * route serves the same multi-name certificate, the case where one tenant's session would be most
 * easily presented to another.
 *
 * <p>Routes: {@code off.test} and {@code other.test} public; {@code mtls.test} requires a client
 * certificate from CA X, {@code cay.test} from CA Y; {@code auto.test} is {@code certificate =
 * auto}. A second Tollgate ({@link #reloading}) has routes whose client-auth a reload changes.
 */
@Timeout(180)
class SessionIsolationTest {
  private static final Duration TOOL_TIMEOUT = Duration.ofSeconds(20);
  private static final List<String> NAMES =
      List.of(
          "off.test", "other.test", "mtls.test", "cay.test", "rl.test", "rl2.test", "silent.test");

  @TempDir static Path dir;
  @RegisterExtension static final ClassResources resources = new ClassResources();
  private static CertificateAuthority serverCa;
  private static Path caPem;
  private static Path clientX;
  private static Path clientXKey;
  private static IssuedCertificate clientXCert;
  private static TollgateFixture tollgate;
  private static TollgateFixture reloading;
  private static Path reloadingDir;
  private static TlsTestServer backend;
  private static final AtomicInteger sessions = new AtomicInteger();
  private static String pool;

  /** A subclass that implements this runs every test with the JDK provider. */
  interface WithJdkProvider {}

  /** A subclass that implements this runs the ClientHello steps on io.handshake-threads. */
  interface WithHandshakeThreads {}

  static TollgateFixture tollgate() {
    return tollgate;
  }

  @BeforeAll
  static void start(TestInfo info) throws Exception {
    if (info.getTestClass().filter(WithJdkProvider.class::isAssignableFrom).isPresent()) {
      // Read at every build, reloads included: kept until the class is done.
      System.setProperty(TlsProvider.PROPERTY, "jdk");
    }
    serverCa = CertificateAuthority.create("Tollgate Isolation CA", KeyType.EC_P256);
    caPem = serverCa.writeCertificatePem(dir.resolve("ca.pem"));
    // One certificate for every route (chain completed with the root, no trusted-roots needed).
    Path chain =
        serverCa
            .issue(KeyType.EC_P256, NAMES.toArray(new String[0]))
            .writePem(dir, "shared")
            .certificateChain();
    Files.writeString(chain, Files.readString(caPem), StandardOpenOption.APPEND);
    Path store = Files.createDirectories(dir.resolve("certs"));
    Path autoChain =
        serverCa.issue(KeyType.EC_P256, "auto.test").writePem(store, "auto").certificateChain();
    Files.writeString(autoChain, Files.readString(caPem), StandardOpenOption.APPEND);

    CertificateAuthority caX = CertificateAuthority.create("Tenant CA X", KeyType.EC_P256);
    CertificateAuthority caY = CertificateAuthority.create("Tenant CA Y", KeyType.EC_P256);
    caX.writeCertificatePem(dir.resolve("ca-x.pem"));
    caY.writeCertificatePem(dir.resolve("ca-y.pem"));
    clientXCert = caX.issue(KeyType.EC_P256, "client.x.test");
    IssuedCertificate.PemFiles x = clientXCert.writePem(dir, "client-x");
    clientX = x.certificateChain();
    clientXKey = x.privateKey();

    // Each pool's backend says which pool it is, then closes (ending s_client -ign_eof).
    backend = resources.add(TlsTestServer.startPlain(greetAndClose("pool-answered")));
    TlsTestServer privateBackend =
        resources.add(TlsTestServer.startPlain(greetAndClose("private-pool-answered")));
    TlsTestServer cayBackend =
        resources.add(TlsTestServer.startPlain(greetAndClose("cay-pool-answered")));
    // A backend that never says a word (it echoes, and s_client sends nothing).
    TlsTestServer silent = resources.add(TlsTestServer.startPlain(TlsTestServer.echo()));
    pool = "pools { p { servers = [\"127.0.0.1:" + backend.port() + "\"] } }";
    boolean threads =
        info.getTestClass().filter(WithHandshakeThreads.class::isAssignableFrom).isPresent();
    // Every step on the handshake thread, at nice 19 (it always gets some CPU on a busy test
    // box), never taken back by the loop.
    String io =
        threads
            ? "io { handshake-threads = 1, handshake-threads-when = always,"
                + " handshake-priority = nice }\n"
            : "";
    java.util.concurrent.Callable<TollgateFixture> start =
        () ->
            TollgateFixture.startIn(
                dir,
                io
                    + """
        certificates { directory = "certs" }
        routes = [
          { hosts = ["off.test"], mode = offload, pool = p,
            certificate { chain = "shared.pem", key = "shared.key" } }
          { hosts = ["other.test"], mode = offload, pool = p,
            certificate { chain = "shared.pem", key = "shared.key" } }
          { hosts = ["mtls.test"], mode = offload, pool = q,
            certificate { chain = "shared.pem", key = "shared.key" },
            client-auth { mode = require, ca = "ca-x.pem" } }
          { hosts = ["cay.test"], mode = offload, pool = r,
            certificate { chain = "shared.pem", key = "shared.key" },
            client-auth { mode = require, ca = "ca-y.pem" } }
          { hosts = ["auto.test"], mode = offload, pool = p, certificate = auto }
          { hosts = ["silent.test"], mode = offload, pool = s,
            certificate { chain = "shared.pem", key = "shared.key" } }
        ]
        pools { q { servers = ["127.0.0.1:%d"] }, r { servers = ["127.0.0.1:%d"] }
                s { servers = ["127.0.0.1:%d"] } }
        """
                        .formatted(privateBackend.port(), cayBackend.port(), silent.port())
                    + pool);
    tollgate =
        resources.add(threads ? HandshakeThreadsUnderTest.start(60_000, 0, start) : start.call());
    reloadingDir = Files.createDirectories(dir.resolve("reloading"));
    for (String file : List.of("shared.pem", "shared.key", "ca-x.pem", "ca-y.pem")) {
      Files.copy(dir.resolve(file), reloadingDir.resolve(file));
    }
    reloading =
        resources.add(
            TollgateFixture.startIn(
                reloadingDir,
                reloadingRoutes("", "client-auth { mode = require, ca = \"ca-x.pem\" }") + pool));
  }

  private static TlsTestServer.ConnectionHandler greetAndClose(String greeting) {
    byte[] bytes = (greeting + "\n").getBytes(StandardCharsets.US_ASCII);
    return socket -> {
      socket.getOutputStream().write(bytes);
      socket.getOutputStream().flush();
      Thread.sleep(100);
    };
  }

  @AfterAll
  static void defaultProvider() {
    System.clearProperty(TlsProvider.PROPERTY);
  }

  /** rl.test and rl2.test with the given client-auth settings (empty: none). */
  private static String reloadingRoutes(String rlClientAuth, String rl2ClientAuth) {
    return String.format(
        """
        routes = [
          { hosts = ["rl.test"], mode = offload, pool = p,
            certificate { chain = "shared.pem", key = "shared.key" }
            %s }
          { hosts = ["rl2.test"], mode = offload, pool = p,
            certificate { chain = "shared.pem", key = "shared.key" }
            %s }
        ]
        """,
        rlClientAuth, rl2ClientAuth);
  }

  // ---- openssl s_client

  @ParameterizedTest
  @ValueSource(strings = {"-tls1_2", "-tls1_3"})
  void aSessionResumesOnTheRouteThatMadeIt(String version) {
    Path session = newSession(tollgate, "off.test", version);
    assertResumed(sClient(tollgate, "off.test", version, "-sess_in", session.toString()), version);
    Path auto = newSession(tollgate, "auto.test", version);
    assertResumed(sClient(tollgate, "auto.test", version, "-sess_in", auto.toString()), version);
    Path mtls =
        newSession(
            tollgate,
            "mtls.test",
            version,
            "-cert",
            clientX.toString(),
            "-key",
            clientXKey.toString());
    assertResumed(
        sClient(
            tollgate,
            "mtls.test",
            version,
            "-sess_in",
            mtls.toString(),
            "-cert",
            clientX.toString(),
            "-key",
            clientXKey.toString()),
        version);
  }

  @ParameterizedTest
  @ValueSource(strings = {"-tls1_2", "-tls1_3"})
  void aSessionFromOneRouteIsAFullHandshakeOnAnother(String version) {
    Path session = newSession(tollgate, "off.test", version);
    for (String other : List.of("other.test", "auto.test")) {
      ProcessResult r = sClient(tollgate, other, version, "-sess_in", session.toString());
      assertThat(r.stdout())
          .as("off.test's session on %s: %s", other, r)
          .contains("New, " + protocol(version))
          .doesNotContain("Reused, ")
          .contains("pool-answered");
    }
    Path auto = newSession(tollgate, "auto.test", version);
    ProcessResult r = sClient(tollgate, "off.test", version, "-sess_in", auto.toString());
    assertThat(r.stdout())
        .as("auto.test's session on off.test: %s", r)
        .contains("New, " + protocol(version))
        .doesNotContain("Reused, ");
  }

  @ParameterizedTest
  @ValueSource(strings = {"-tls1_2", "-tls1_3"})
  void aPublicRoutesSessionDoesNotOpenARouteThatRequiresACertificate(String version) {
    Path session = newSession(tollgate, "off.test", version);
    assertRefused(
        sClient(tollgate, "mtls.test", version, "-sess_in", session.toString()),
        "off.test's session on mtls.test without a certificate");
  }

  @ParameterizedTest
  @ValueSource(strings = {"-tls1_2", "-tls1_3"})
  void aSessionVerifiedUnderCaXDoesNotResumeOnARouteTrustingOnlyCaY(String version) {
    Path session =
        newSession(
            tollgate,
            "mtls.test",
            version,
            "-cert",
            clientX.toString(),
            "-key",
            clientXKey.toString());
    assertRefused(
        sClient(tollgate, "cay.test", version, "-sess_in", session.toString()),
        "mtls.test's (CA X) session on cay.test (CA Y) without a certificate");
    assertRefused(
        sClient(
            tollgate,
            "cay.test",
            version,
            "-sess_in",
            session.toString(),
            "-cert",
            clientX.toString(),
            "-key",
            clientXKey.toString()),
        "mtls.test's (CA X) session on cay.test (CA Y) with the CA X certificate");
  }

  @ParameterizedTest
  @ValueSource(strings = {"-tls1_2", "-tls1_3"})
  void aReloadThatChangesClientAuthEndsTheRoutesSessionsAndOnlyThat(String version)
      throws Exception {
    String requireX = "client-auth { mode = require, ca = \"ca-x.pem\" }";
    String requireY = "client-auth { mode = require, ca = \"ca-y.pem\" }";
    reload(reloadingRoutes("", requireX));
    Path rl = newSession(reloading, "rl.test", version);
    Path rl2 =
        newSession(
            reloading,
            "rl2.test",
            version,
            "-cert",
            clientX.toString(),
            "-key",
            clientXKey.toString());
    // A reload that changes nothing for these routes keeps their sessions (BoringSSL: the keys
    // are the process's or the file's; the JDK makes new keys with every context, so there no
    // session outlives a reload).
    reload(reloadingRoutes("", requireX) + "\ntimeouts { idle = 4m }");
    if (reloading.tollgate().snapshot().tls().provider().isOpenSsl()) {
      assertResumed(sClient(reloading, "rl.test", version, "-sess_in", rl.toString()), version);
    }
    // rl.test now requires a certificate, rl2.test trusts CA Y instead of CA X.
    reload(reloadingRoutes(requireX, requireY));
    assertRefused(
        sClient(reloading, "rl.test", version, "-sess_in", rl.toString()),
        "rl.test's session from before client-auth was required");
    assertRefused(
        sClient(
            reloading,
            "rl2.test",
            version,
            "-sess_in",
            rl2.toString(),
            "-cert",
            clientX.toString(),
            "-key",
            clientXKey.toString()),
        "rl2.test's CA X session after the route changed to CA Y");
  }

  @Test
  void tls13TicketsArriveWithTheHandshakeNotWithTheBackendsFirstBytes() throws Exception {
    var openssl = CommandLineTools.which("openssl");
    assumeThat(openssl).as("openssl is not installed").isPresent();
    Path session = dir.resolve("silent.session");
    // s_client writes -sess_out when a NewSessionTicket arrives; the backend never answers, so
    // the connection stays open with nothing but the handshake's own messages sent.
    Process process =
        new ProcessBuilder(
                openssl.get().toString(),
                "s_client",
                "-connect",
                "127.0.0.1:" + tollgate.port(),
                "-servername",
                "silent.test",
                "-CAfile",
                caPem.toString(),
                "-verify_return_error",
                "-tls1_3",
                "-ign_eof",
                "-sess_out",
                session.toString())
            .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .redirectErrorStream(true)
            .start();
    Path saved = dir.resolve("silent.saved.session");
    try {
      TollgateFixture.await(() -> wholeSessionCopied(session, saved), Duration.ofSeconds(10));
      assertThat(saved).as("session (with ticket) saved while the backend is silent").exists();
    } finally {
      process.destroyForcibly();
      process.waitFor(5, java.util.concurrent.TimeUnit.SECONDS);
    }
    ProcessResult text =
        CommandLineTools.run(
            TOOL_TIMEOUT,
            openssl.get().toString(),
            "sess_id",
            "-in",
            saved.toString(),
            "-noout",
            "-text");
    assertThat(text.stdout())
        .as("%s", text)
        .contains("TLSv1.3")
        .contains("TLS session ticket lifetime hint");
    // And it resumes (s_client quits at once here: stdin is empty and there is no -ign_eof).
    List<String> resume =
        List.of(
            openssl.get().toString(),
            "s_client",
            "-connect",
            "127.0.0.1:" + tollgate.port(),
            "-servername",
            "silent.test",
            "-CAfile",
            caPem.toString(),
            "-verify_return_error",
            "-tls1_3",
            "-sess_in",
            saved.toString());
    ProcessResult r = CommandLineTools.run(TOOL_TIMEOUT, resume);
    assertThat(r.stdout()).as("%s", r).contains("Reused, TLSv1.3");
  }

  /**
   * Copies {@code session} to {@code copy} once it holds a whole PEM block. Why a copy: s_client
   * rewrites the file for every ticket it gets, so a later read may meet it truncated or half
   * written (a clean-clone CI run read it empty after the first ticket's copy had been seen).
   */
  private static boolean wholeSessionCopied(Path session, Path copy) {
    try {
      String pem = Files.readString(session, StandardCharsets.US_ASCII);
      if (!pem.contains("-----END SSL SESSION PARAMETERS-----")) {
        return false;
      }
      Files.writeString(copy, pem, StandardCharsets.US_ASCII);
      return true;
    } catch (IOException e) {
      return false; // not written yet
    }
  }

  // ---- the JDK client

  @ParameterizedTest
  @ValueSource(strings = {"TLSv1.2", "TLSv1.3"})
  void theJdkClientResumesOnTheSameRouteOnly(String protocol) throws Exception {
    // The JDK caches sessions by the host it connects to: the same "host" for every SNI, so it
    // offers the last session wherever it connects next; but it then sends that session's SNI,
    // not the new one, so the session goes back to its own route.
    SSLContext client = clientContext(null);
    byte[] first = jdkSession(client, tollgate, "off.test", protocol, "pool-answered");
    if (protocol.equals("TLSv1.2")) {
      assertThat(jdkSession(client, tollgate, "off.test", protocol, "pool-answered"))
          .as("resumed: same session id")
          .isEqualTo(first);
    }
    assertThat(jdkGreetingOrFailure(client, tollgate, "mtls.test", protocol))
        .as("off.test's session pointed at mtls.test without a certificate")
        .isNotEqualTo("private-pool-answered");

    // The client's key manager is asked for a certificate in full handshakes only.
    AtomicInteger asked = new AtomicInteger();
    SSLContext withX = clientContext(countingKeyManager(clientXCert, asked));
    jdkSession(withX, tollgate, "mtls.test", protocol, "private-pool-answered");
    assertThat(asked).as("full handshake on mtls.test").hasValue(1);
    jdkSession(withX, tollgate, "mtls.test", protocol, "private-pool-answered");
    assertThat(asked).as("resumed on mtls.test: no certificate asked for").hasValue(1);
    assertThat(jdkGreetingOrFailure(withX, tollgate, "cay.test", protocol))
        .as("mtls.test's (CA X) session pointed at cay.test (CA Y)")
        .isNotEqualTo("cay-pool-answered");
  }

  @ParameterizedTest
  @ValueSource(strings = {"TLSv1.2", "TLSv1.3"})
  void theJdkClientDoesNotResumeAfterTheRoutesClientAuthChanged(String protocol) throws Exception {
    String requireX = "client-auth { mode = require, ca = \"ca-x.pem\" }";
    String requireY = "client-auth { mode = require, ca = \"ca-y.pem\" }";
    reload(reloadingRoutes("", requireX));
    SSLContext anonymous = clientContext(null);
    jdkSession(anonymous, reloading, "rl.test", protocol, "pool-answered");
    AtomicInteger asked = new AtomicInteger();
    SSLContext withX = clientContext(countingKeyManager(clientXCert, asked));
    jdkSession(withX, reloading, "rl2.test", protocol, "pool-answered");
    jdkSession(withX, reloading, "rl2.test", protocol, "pool-answered");
    assertThat(asked).as("one full handshake, then resumed").hasValue(1);

    reload(reloadingRoutes(requireX, requireY));
    assertThat(jdkGreetingOrFailure(anonymous, reloading, "rl.test", protocol))
        .as("rl.test's session from before client-auth was required")
        .startsWith("failed: ");
    assertThat(jdkGreetingOrFailure(withX, reloading, "rl2.test", protocol))
        .as("rl2.test's CA X session after the route changed to CA Y")
        .startsWith("failed: ");
    assertThat(asked).as("a full handshake asked for the certificate").hasValue(2);
  }

  private static SSLContext clientContext(KeyManager keyManager) throws Exception {
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(
        keyManager == null ? null : new KeyManager[] {keyManager},
        serverCa.trustManagers().getTrustManagers(),
        new SecureRandom());
    return context;
  }

  /** {@code certificate}'s key manager, counting how often a handshake asks it for a key. */
  private static KeyManager countingKeyManager(IssuedCertificate certificate, AtomicInteger asked)
      throws Exception {
    X509ExtendedKeyManager keys =
        (X509ExtendedKeyManager) certificate.keyManagers().getKeyManagers()[0];
    return new X509ExtendedKeyManager() {
      @Override
      public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
        asked.incrementAndGet();
        return keys.chooseClientAlias(keyType, issuers, socket);
      }

      @Override
      public String[] getClientAliases(String keyType, Principal[] issuers) {
        return keys.getClientAliases(keyType, issuers);
      }

      @Override
      public String[] getServerAliases(String keyType, Principal[] issuers) {
        return keys.getServerAliases(keyType, issuers);
      }

      @Override
      public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
        return keys.chooseServerAlias(keyType, issuers, socket);
      }

      @Override
      public X509Certificate[] getCertificateChain(String alias) {
        return keys.getCertificateChain(alias);
      }

      @Override
      public PrivateKey getPrivateKey(String alias) {
        return keys.getPrivateKey(alias);
      }
    };
  }

  /**
   * A JDK connection to {@code sni} that reads {@code greeting} from the pool; returns the session
   * id.
   */
  private static byte[] jdkSession(
      SSLContext client, TollgateFixture instance, String sni, String protocol, String greeting)
      throws Exception {
    try (TlsTestClient.Connection c = connect(client, instance, sni, protocol)) {
      assertThat(firstLine(c)).isEqualTo(greeting);
      byte[] id = c.socket().getSession().getId();
      return Arrays.copyOf(id, id.length);
    }
  }

  /** The pool's first line, or {@code "failed: "} and why the connection failed. */
  private static String jdkGreetingOrFailure(
      SSLContext client, TollgateFixture instance, String sni, String protocol) {
    try (TlsTestClient.Connection c = connect(client, instance, sni, protocol)) {
      String line = firstLine(c);
      return line == null ? "failed: closed without a greeting" : line;
    } catch (java.io.IOException | UncheckedIOException e) {
      return "failed: " + e;
    }
  }

  private static TlsTestClient.Connection connect(
      SSLContext client, TollgateFixture instance, String sni, String protocol) {
    return TlsTestClient.connect(
        new InetSocketAddress(InetAddress.getLoopbackAddress(), instance.port()),
        sni,
        "off.test",
        client,
        Duration.ofSeconds(10),
        List.of(protocol));
  }

  private static String firstLine(TlsTestClient.Connection c) throws java.io.IOException {
    return new BufferedReader(
            new InputStreamReader(c.socket().getInputStream(), StandardCharsets.US_ASCII))
        .readLine();
  }

  // ---- helpers

  private static void reload(String routes) throws Exception {
    String body = routes + "\n" + pool;
    Path file = reloadingDir.resolve("tollgate.conf");
    // The listener as TollgateFixture wrote it, so it stays bound where it is.
    Files.writeString(
        file,
        "tollgate {\n  listeners = [ { name = main,"
            + " address = \"127.0.0.1:0\" } ]\n"
            + body
            + "\n}\n");
    reloading.tollgate().reload(ConfigLoader.load(file));
  }

  /** A full handshake that saves a session holding a ticket; returns the session file. */
  private static Path newSession(
      TollgateFixture instance, String name, String version, String... extra) {
    Path session = dir.resolve(name + version + "-" + sessions.incrementAndGet() + ".session");
    List<String> args = new ArrayList<>(List.of("-sess_out", session.toString()));
    args.addAll(List.of(extra));
    ProcessResult r = sClient(instance, name, version, args.toArray(new String[0]));
    assertThat(r.stdout())
        .as("%s", r)
        .contains("New, " + protocol(version))
        .contains("pool-answered")
        .contains("TLS session ticket lifetime hint");
    assertThat(session).as("session saved by s_client").exists();
    return session;
  }

  private static void assertResumed(ProcessResult r, String version) {
    assertThat(r.stdout())
        .as("%s", r)
        .contains("Reused, " + protocol(version))
        .contains("pool-answered");
  }

  /** No resumption, and the pool never answered: the handshake demanded a valid certificate. */
  private static void assertRefused(ProcessResult r, String what) {
    assertThat(r.stdout())
        .as("%s: %s", what, r)
        .doesNotContain("Reused, ")
        .doesNotContain("answered");
  }

  private static ProcessResult sClient(
      TollgateFixture instance, String name, String version, String... extra) {
    var openssl = CommandLineTools.which("openssl");
    assumeThat(openssl).as("openssl is not installed").isPresent();
    List<String> command =
        new ArrayList<>(
            List.of(
                openssl.get().toString(),
                "s_client",
                "-connect",
                "127.0.0.1:" + instance.port(),
                "-servername",
                name,
                "-CAfile",
                caPem.toString(),
                "-verify_hostname",
                name,
                "-verify_return_error",
                "-ign_eof",
                version));
    command.addAll(List.of(extra));
    ProcessResult r = CommandLineTools.run(TOOL_TIMEOUT, command);
    assertThat(r.timedOut()).as("%s", r).isFalse();
    return r;
  }

  private static String protocol(String flag) {
    return flag.equals("-tls1_2") ? "TLSv1.2" : "TLSv1.3";
  }
}
