package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tollgate.ops.ConfigWatcher;
import io.tollgate.ops.ReloadRehearsal;
import io.tollgate.ops.Reloader;
import io.tollgate.pki.CertificateAuthority;
import io.tollgate.pki.CertificateAuthority.KeyType;
import io.tollgate.pki.IssuedCertificate;
import io.tollgate.testkit.TlsTestClient;
import io.tollgate.testkit.TlsTestServer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tenants-directory} end to end: one file per tenant, added, changed and removed between
 * reloads, with real JDK clients and plain backends. A reload rebuilds only the tenant that
 * changed: the other tenants keep their TLS contexts, and so their session caches. Session tickets
 * are off here, so a TLS 1.2 session can only resume from the server's session cache, which lives
 * in the context: a rebuilt context has an empty cache and the client gets a full handshake (a new
 * session id). Without reuse, every reload ended every tenant's sessions.
 */
@Timeout(120)
class TenantFilesReloadTest {
  @TempDir Path dir;
  private final List<TlsTestServer> servers = new ArrayList<>();
  private final Map<String, TlsTestServer> backends = new HashMap<>();
  private final Map<String, BigInteger> serials = new HashMap<>();
  private CertificateAuthority ca;
  private TollgateFixture tollgate;
  private Reloader reloader;
  private SSLContext client;

  @BeforeEach
  void setUp() throws Exception {
    ca = CertificateAuthority.create("Tollgate Tenants IT CA", KeyType.EC_P256);
    ca.writeCertificatePem(dir.resolve("ca.pem"));
    for (String[] cert : new String[][] {{"a", "a.test"}, {"b", "b.test"}, {"b2", "b.test"}}) {
      IssuedCertificate c = ca.issue(KeyType.EC_P256, cert[1]);
      c.writePem(dir.resolve("certs"), cert[0]);
      serials.put(cert[0], c.certificate().getSerialNumber());
    }
    IssuedCertificate c = ca.issue(KeyType.EC_P256, "c.test", "*.c.test");
    c.writePem(dir.resolve("certs"), "c");
    serials.put("c", c.certificate().getSerialNumber());
    for (String name : List.of("a", "b", "b-new", "c")) {
      TlsTestServer s = TlsTestServer.startPlain(TlsTestServer.greet("from " + name));
      servers.add(s);
      backends.put(name, s);
    }
    Files.createDirectories(dir.resolve("tenants"));
    tenant("a", "a.test", "a", "a");
    tenant("b", "b.test", "b", "b");
    tollgate =
        TollgateFixture.startIn(
            dir,
            """
            certificates { trusted-roots = "ca.pem" }
            tls { session-tickets = false }
            tenants-directory = "tenants"
            """);
    reloader = new Reloader(dir.resolve("tollgate.conf"), tollgate.tollgate());
    client = TlsTestClient.context(null, ca.trustManagers());
  }

  @AfterEach
  void tearDown() {
    if (tollgate != null) {
      tollgate.close();
    }
    servers.forEach(TlsTestServer::close);
  }

  /** Writes tenants/FILE.conf: one offload route for {@code host} to its own pool. */
  private void tenant(String file, String host, String cert, String backend) throws Exception {
    String hosts = host.equals("c.test") ? "\"c.test\", \"*.c.test\"" : "\"" + host + "\"";
    Files.writeString(
        dir.resolve("tenants").resolve(file + ".conf"),
        String.format(
            """
            routes = [ { hosts = [%s], mode = offload, pool = %s,
              certificate { chain = "certs/%s.pem", key = "certs/%s.key" } } ]
            pools { %s { servers = ["127.0.0.1:%d"] } }
            """,
            hosts, file, cert, cert, file, backends.get(backend).port()));
  }

  /** One TLS 1.2 connection: the session id, the certificate served and the backend's greeting. */
  private record Visit(String sessionId, BigInteger serial, String greeting) {}

  private Visit visit(String host) throws Exception {
    try (SSLSocket socket =
        TlsTestClient.to(tollgate.port())
            .sni(host)
            .protocols("TLSv1.2")
            .context(client)
            .connect()) {
      String greeting =
          new BufferedReader(
                  new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII))
              .readLine();
      return new Visit(
          java.util.HexFormat.of().formatHex(socket.getSession().getId()),
          TlsTestClient.peer(socket).getSerialNumber(),
          greeting);
    }
  }

  private void reload() {
    Reloader.Result result = reloader.reload("test");
    assertThat(result.errors()).isEmpty();
    assertThat(result.ok()).isTrue();
  }

  @Test
  void anUntouchedTenantResumesItsSessionAfterAnotherTenantChanged() throws Exception {
    Visit a = visit("a.test");
    assertThat(a.greeting()).isEqualTo("from a");
    assertThat(visit("a.test").sessionId())
        .as("resumes before any reload")
        .isEqualTo(a.sessionId());
    Visit b = visit("b.test");

    tenant("b", "b.test", "b", "b-new");
    reload();

    Visit bAfter = visit("b.test");
    assertThat(bAfter.greeting()).as("the changed pool is in force").isEqualTo("from b-new");
    Visit aAfter = visit("a.test");
    assertThat(aAfter.greeting()).isEqualTo("from a");
    assertThat(aAfter.sessionId()).as("a.test resumed after the reload").isEqualTo(a.sessionId());
    // b changed its pool only: its route and certificate are as they were, so is its context.
    assertThat(bAfter.sessionId()).isEqualTo(b.sessionId());
  }

  @Test
  void aTenantWhoseCertificateChangedStartsNewSessionsAndTheOthersResume() throws Exception {
    Visit a = visit("a.test");
    Visit b = visit("b.test");
    assertThat(b.serial()).isEqualTo(serials.get("b"));

    tenant("b", "b.test", "b2", "b");
    reload();

    Visit bAfter = visit("b.test");
    assertThat(bAfter.serial()).as("the new certificate").isEqualTo(serials.get("b2"));
    assertThat(bAfter.sessionId()).as("a full handshake with it").isNotEqualTo(b.sessionId());
    assertThat(visit("a.test").sessionId()).isEqualTo(a.sessionId());
  }

  @Test
  void addedAndRemovedTenantFilesComeAndGoWithoutTouchingTheOthers() throws Exception {
    Visit a = visit("a.test");

    tenant("c", "c.test", "c", "c");
    reload();
    Visit c = visit("www.c.test");
    assertThat(c.greeting()).isEqualTo("from c");
    assertThat(c.serial()).as("the new tenant's own certificate").isEqualTo(serials.get("c"));
    assertThat(visit("a.test").sessionId()).isEqualTo(a.sessionId());

    Files.delete(dir.resolve("tenants/b.conf"));
    reload();
    assertThatThrownBy(() -> visit("b.test")).as("b.test has no route any more");
    Visit aAfter = visit("a.test");
    assertThat(aAfter.greeting()).isEqualTo("from a");
    assertThat(aAfter.sessionId()).isEqualTo(a.sessionId());
    assertThat(visit("c.test").serial()).isEqualTo(serials.get("c"));
  }

  @Test
  void aReloadRehearsalPutsNothingInForceAndEveryTenantKeepsItsRouteAndSessions() throws Exception {
    Visit a = visit("a.test");
    Visit b = visit("b.test");
    io.tollgate.snapshot.Snapshot inForce = tollgate.tollgate().snapshot();
    long version = tollgate.tollgate().configVersion();

    // Rounds read each tenant file again in turn and change one pool's weights: all dropped.
    assertThat(ReloadRehearsal.runHere(reloader, 6)).isEqualTo(6);

    assertThat(tollgate.tollgate().snapshot()).isSameAs(inForce);
    assertThat(tollgate.tollgate().configVersion()).isEqualTo(version);
    Visit aAfter = visit("a.test");
    Visit bAfter = visit("b.test");
    assertThat(aAfter.greeting()).isEqualTo("from a");
    assertThat(bAfter.greeting()).isEqualTo("from b");
    assertThat(aAfter.sessionId())
        .as("a.test resumed after the rehearsal")
        .isEqualTo(a.sessionId());
    assertThat(bAfter.sessionId())
        .as("b.test resumed after the rehearsal")
        .isEqualTo(b.sessionId());
    assertThat(aAfter.serial()).isEqualTo(serials.get("a"));
    assertThat(bAfter.serial()).isEqualTo(serials.get("b"));
  }

  @Test
  void aReloadRehearsalReadsTheChangedFilesButOnlyAReloadPutsThemInForce() throws Exception {
    Visit a = visit("a.test");
    tenant("b", "b.test", "b2", "b-new");

    assertThat(ReloadRehearsal.runHere(reloader, 4)).isEqualTo(4);
    Visit b = visit("b.test");
    assertThat(b.greeting()).as("the file changed, no reload yet").isEqualTo("from b");
    assertThat(b.serial()).isEqualTo(serials.get("b"));

    reload();
    Visit bAfter = visit("b.test");
    assertThat(bAfter.greeting()).isEqualTo("from b-new");
    assertThat(bAfter.serial()).isEqualTo(serials.get("b2"));
    assertThat(visit("a.test").sessionId()).isEqualTo(a.sessionId());
  }

  @Test
  void aRehearsalGoesOnWithoutLeavingATenantOutWhenAnotherFileUsesItsPool() throws Exception {
    // d.c.test routes to a's pool: leaving a.conf out (the first file) does not load; the rounds
    // that read a file again and reweight a pool still run, and nothing is put in force (d.conf
    // included: only a reload would).
    Files.writeString(
        dir.resolve("tenants/d.conf"),
        "routes = [ { hosts = [\"d.c.test\"], mode = offload, pool = a,\n"
            + "  certificate { chain = \"certs/c.pem\", key = \"certs/c.key\" } } ]\n");
    Visit a = visit("a.test");
    io.tollgate.snapshot.Snapshot inForce = tollgate.tollgate().snapshot();

    assertThat(ReloadRehearsal.runHere(reloader, 6)).isEqualTo(6);

    assertThat(tollgate.tollgate().snapshot()).isSameAs(inForce);
    assertThatThrownBy(() -> visit("d.c.test")).as("not in force before a reload");
    assertThat(visit("a.test").sessionId()).isEqualTo(a.sessionId());
    reload();
    assertThat(visit("d.c.test").greeting()).isEqualTo("from a");
  }

  @Test
  void aReloadAskedForOrAFileThatDoesNotLoadEndsTheRehearsal() throws Exception {
    Path broken = dir.resolve("tenants/c.conf");
    Files.writeString(broken, "routes = [ { hosts = [\"c.test\"], pool = nowhere } ]\n");
    assertThat(ReloadRehearsal.runHere(reloader, 4)).as("the files do not load").isZero();
    assertThat(visit("a.test").greeting()).isEqualTo("from a");
    // The real reload still reports the file, naming it.
    assertThat(reloader.reload("test").errors())
        .anySatisfy(e -> assertThat(e).startsWith(broken + ":1: "));

    Files.delete(broken);
    reload();
    assertThat(ReloadRehearsal.runHere(reloader, 4))
        .as("real reloads train the JIT from the first one on")
        .isZero();
  }

  @Test
  void aBrokenTenantFileIsRejectedNamingItAndTheConfigInForceStays() throws Exception {
    Path broken = dir.resolve("tenants/c.conf");
    Files.writeString(broken, "routes = [ { hosts = [\"c.test\"], pool = nowhere } ]\n");

    Reloader.Result result = reloader.reload("test");

    assertThat(result.ok()).isFalse();
    assertThat(result.errors()).anySatisfy(e -> assertThat(e).startsWith(broken + ":1: "));
    assertThat(visit("a.test").greeting()).isEqualTo("from a");
  }

  @Test
  void theWatcherSeesATenantFileAddedAndRemoved() throws Exception {
    try (ConfigWatcher watcher =
        new ConfigWatcher(
                dir.resolve("tollgate.conf"),
                () -> tollgate.tollgate().snapshot().config(),
                () -> reloader.reload("watch"),
                Duration.ofMillis(100))
            .start()) {
      tenant("c", "c.test", "c", "c");
      TollgateFixture.await(
          () -> tollgate.tollgate().snapshot().config().pools().containsKey("c"),
          Duration.ofSeconds(20));
      assertThat(visit("c.test").greeting()).isEqualTo("from c");
      Files.delete(dir.resolve("tenants/c.conf"));
      TollgateFixture.await(
          () -> !tollgate.tollgate().snapshot().config().pools().containsKey("c"),
          Duration.ofSeconds(20));
      assertThatThrownBy(() -> visit("c.test"));
    }
  }
}
