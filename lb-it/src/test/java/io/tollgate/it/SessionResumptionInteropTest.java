package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.tollgate.pki.CertificateAuthority;
import io.tollgate.pki.CertificateAuthority.KeyType;
import io.tollgate.testkit.CommandLineTools;
import io.tollgate.testkit.CommandLineTools.ProcessResult;
import io.tollgate.testkit.TlsTestServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * TLS session resumption across a fleet, checked with {@code openssl s_client -sess_out} / {@code
 * -sess_in} (skipped without openssl). Four Tollgate instances serve the same offload route with
 * the same certificate and differ only in {@code tls.session-ticket-keys}:
 *
 * <ul>
 *   <li>A and B name the same file (one key);
 *   <li>C has a file with another key;
 *   <li>D has a rotated file: a new key first (encrypts), A's key second (still decrypts).
 * </ul>
 *
 * A session can only move between instances inside its ticket (the session caches are per
 * instance), so "Reused" on another instance proves the ticket was encrypted with the shared key.
 */
@Timeout(120)
class SessionResumptionInteropTest {
  private static final Duration TOOL_TIMEOUT = Duration.ofSeconds(20);
  private static final String GREETING = "resumption-backend";

  @TempDir static Path dir;
  private static Path caPem;
  private static TlsTestServer backend;
  private static final List<TollgateFixture> instances = new ArrayList<>();
  private static TollgateFixture a;
  private static TollgateFixture b;
  private static TollgateFixture c;
  private static TollgateFixture d;

  @BeforeAll
  static void start() throws Exception {
    CertificateAuthority root =
        CertificateAuthority.create("Tollgate Resumption CA", KeyType.EC_P256);
    caPem = root.writeCertificatePem(dir.resolve("ca.pem"));
    // A complete chain by appending the root to the chain file (no trusted-roots needed).
    Path chain =
        root.issue(KeyType.EC_P256, "shop.test", "blog.test")
            .writePem(dir, "shop")
            .certificateChain();
    Files.writeString(chain, Files.readString(caPem), StandardOpenOption.APPEND);

    String k1 = newTicketKey();
    String k2 = newTicketKey();
    String k3 = newTicketKey();
    Files.writeString(dir.resolve("shared.keys"), "# fleet ticket keys\n" + k1 + "\n");
    Files.writeString(dir.resolve("other.keys"), k2 + "\n");
    Files.writeString(
        dir.resolve("rotated.keys"),
        "# rotated: the new key encrypts\n"
            + k3
            + "\n# the previous key still decrypts\n"
            + k1
            + "\n");

    // The backend greets and closes, which ends s_client -ign_eof after any TLS 1.3 tickets
    // (sent after the handshake) have arrived.
    backend =
        TlsTestServer.startPlain(
            socket -> {
              socket.getOutputStream().write((GREETING + "\n").getBytes(StandardCharsets.US_ASCII));
              socket.getOutputStream().flush();
              Thread.sleep(100);
            });
    a = instance("a", "shared.keys");
    b = instance("b", "shared.keys");
    c = instance("c", "other.keys");
    d = instance("d", "rotated.keys");
  }

  /** Base64 of 48 random bytes: one line of a ticket-key file. */
  private static String newTicketKey() {
    byte[] key = new byte[48];
    new SecureRandom().nextBytes(key);
    return Base64.getEncoder().encodeToString(key);
  }

  /** An instance whose tollgate.conf sits in {@code dir/name}, sharing files in {@code dir}. */
  private static TollgateFixture instance(String name, String keyFile) throws Exception {
    Path home = Files.createDirectories(dir.resolve(name));
    TollgateFixture f =
        TollgateFixture.startIn(
            home,
            String.format(
                """
        tls { session-ticket-keys = "../%s" }
        routes = [
          { hosts = ["shop.test"], mode = offload, pool = web,
            certificate { chain = "../shop.pem", key = "../shop.key" } }
          { hosts = ["blog.test"], mode = offload, pool = web,
            certificate { chain = "../shop.pem", key = "../shop.key" } }
        ]
        pools { web { servers = ["127.0.0.1:%d"] } }
        """,
                keyFile, backend.port()));
    instances.add(f);
    return f;
  }

  @AfterAll
  static void stop() {
    instances.forEach(TollgateFixture::close);
    if (backend != null) {
      backend.close();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"-tls1_2", "-tls1_3"})
  void aSessionFromOneInstanceResumesOnAnotherSharingTheKeyFile(String version) throws Exception {
    Path session = newSession(a, version, "a");
    assertThat(handshake(b, version, "-sess_in", session.toString()))
        .as("session from A on B (same ticket-key file)")
        .contains("Reused, " + protocol(version));
    // And on A itself, of course.
    assertThat(handshake(a, version, "-sess_in", session.toString()))
        .contains("Reused, " + protocol(version));
  }

  @ParameterizedTest
  @ValueSource(strings = {"-tls1_2", "-tls1_3"})
  void theSharedKeyFileResumesSessionsOnTheirOwnRouteOnly(String version) throws Exception {
    // Every route derives its own keys from the file: same route on another node resumes,
    // another route on the same or another node makes a full handshake.
    Path session = newSession(a, version, "a-shop");
    for (TollgateFixture node : List.of(a, b)) {
      assertThat(handshakeWith(node, "blog.test", version, "-sess_in", session.toString()))
          .as("shop.test's session on blog.test")
          .contains("New, " + protocol(version))
          .doesNotContain("Reused, ");
    }
    assertThat(handshake(b, version, "-sess_in", session.toString()))
        .contains("Reused, " + protocol(version));
  }

  @ParameterizedTest
  @ValueSource(strings = {"-tls1_2", "-tls1_3"})
  void anInstanceWithOtherKeysMakesAFullHandshakeInstead(String version) throws Exception {
    Path session = newSession(a, version, "a-for-c");
    String out = handshake(c, version, "-sess_in", session.toString());
    assertThat(out)
        .as("session from A on C (different key)")
        .contains("New, " + protocol(version))
        .doesNotContain("Reused, ");
    // C itself resumes its own sessions: it refused A's for the key, not for lack of resumption.
    Path own = newSession(c, version, "c");
    assertThat(handshake(c, version, "-sess_in", own.toString()))
        .contains("Reused, " + protocol(version));
  }

  @ParameterizedTest
  @ValueSource(strings = {"-tls1_2", "-tls1_3"})
  void afterRotationTheOldKeyStillDecryptsAndTheNewOneEncrypts(String version) throws Exception {
    // A's ticket (old key) resumes on D, whose file lists that key second.
    Path fromA = newSession(a, version, "a-for-d");
    assertThat(handshake(d, version, "-sess_in", fromA.toString()))
        .as("session from A on D (A's key is D's second key)")
        .contains("Reused, " + protocol(version));
    // D encrypts with its first key, which A does not have: A cannot resume D's ticket.
    Path fromD = newSession(d, version, "d");
    assertThat(handshake(d, version, "-sess_in", fromD.toString()))
        .contains("Reused, " + protocol(version));
    assertThat(handshake(a, version, "-sess_in", fromD.toString()))
        .as("session from D (new key) on A")
        .contains("New, " + protocol(version))
        .doesNotContain("Reused, ");
  }

  /** A full handshake on {@code instance} that saves the session; returns the session file. */
  private static Path newSession(TollgateFixture instance, String version, String label)
      throws Exception {
    Path session = dir.resolve(label + version + ".session");
    String out = handshake(instance, version, "-sess_out", session.toString());
    assertThat(out).contains("New, " + protocol(version));
    assertThat(session).as("session saved by s_client").exists();
    assertThat(Files.size(session)).isPositive();
    // A session that holds a ticket: s_client prints the ticket lifetime hint then.
    assertThat(out).as("s_client output").contains("TLS session ticket lifetime hint");
    return session;
  }

  private static String handshake(TollgateFixture instance, String version, String... extra) {
    return handshakeWith(instance, "shop.test", version, extra);
  }

  private static String handshakeWith(
      TollgateFixture instance, String name, String version, String... extra) {
    String openssl = tool("openssl");
    List<String> command =
        new ArrayList<>(
            List.of(
                openssl,
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
                // Read until the server closes (after the backend's greeting), stdin being
                // /dev/null:
                // TLS 1.3 tickets arrive after the handshake, so quitting at once could miss them.
                "-ign_eof",
                version));
    command.addAll(List.of(extra));
    ProcessResult r = CommandLineTools.run(TOOL_TIMEOUT, command);
    assertThat(r.timedOut()).as("%s", r).isFalse();
    assertThat(r.stdout()).as("%s", r).contains("Verify return code: 0 (ok)").contains(GREETING);
    return r.stdout();
  }

  private static String protocol(String flag) {
    return flag.equals("-tls1_2") ? "TLSv1.2" : "TLSv1.3";
  }

  private static String tool(String name) {
    var path = CommandLineTools.which(name);
    assumeThat(path).as(name + " is not installed").isPresent();
    return path.get().toString();
  }
}
