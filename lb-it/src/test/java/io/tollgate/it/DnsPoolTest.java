package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tollgate.config.ConfigLoader;
import io.tollgate.connection.CloseReason;
import io.tollgate.ops.ReloadRehearsal;
import io.tollgate.ops.Reloader;
import io.tollgate.pki.CertificateAuthority;
import io.tollgate.pki.CertificateAuthority.KeyType;
import io.tollgate.pki.IssuedCertificate;
import io.tollgate.snapshot.PoolServers;
import io.tollgate.testkit.TestDnsServer;
import io.tollgate.testkit.TestDnsServer.Srv;
import io.tollgate.testkit.TlsTestClient;
import io.tollgate.testkit.TlsTestServer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * DNS-aware pools end to end: a {@link TestDnsServer} on loopback is Tollgate's only name server
 * ({@code tollgate.dns.servers}), the test changes its records while real TLS backends behind a
 * real Tollgate serve real clients. Backends of one name share a port on 127.0.0.1 and 127.0.0.2,
 * so the A record alone decides where a connection goes.
 */
@Timeout(60)
class DnsPoolTest {
  private static final Duration WITHIN = Duration.ofSeconds(15);
  private static CertificateAuthority ca;
  private static IssuedCertificate cert;
  private final List<TlsTestServer> servers = new ArrayList<>();
  private TestDnsServer dns;
  private TollgateFixture tollgate;

  @BeforeAll
  static void certificates() {
    ca = CertificateAuthority.create("Tollgate DNS IT CA", KeyType.EC_P256);
    cert = ca.issue(KeyType.EC_P256, "app.test", "other.test");
  }

  @BeforeEach
  void startDns() throws Exception {
    dns = TestDnsServer.start();
  }

  @AfterEach
  void stop() {
    if (tollgate != null) {
      tollgate.close();
    }
    servers.forEach(TlsTestServer::close);
    dns.close();
  }

  private TlsTestServer backend(String ip, int port, String name) {
    TlsTestServer s =
        TlsTestServer.start(new InetSocketAddress(ip, port), cert, TlsTestServer.greet(name));
    servers.add(s);
    return s;
  }

  /** Two backends on one port: {@code first} on 127.0.0.1, {@code second} on 127.0.0.2. */
  private int pair(String first, String second) {
    for (int attempt = 0; ; attempt++) {
      TlsTestServer b = backend("127.0.0.2", 0, second);
      try {
        backend("127.0.0.1", b.port(), first);
        return b.port();
      } catch (RuntimeException taken) {
        if (attempt > 20) {
          throw taken;
        }
      }
    }
  }

  private String dnsBlock() {
    return "dns { servers = [\"" + dns.address() + "\"], timeout = 500ms }\n";
  }

  private String greeting(String sni) throws Exception {
    try (TlsTestClient.Connection c = TlsTestClient.connect(tollgate.port(), sni, ca)) {
      return firstLine(c);
    }
  }

  private static String firstLine(TlsTestClient.Connection c) throws Exception {
    return new BufferedReader(
            new InputStreamReader(c.socket().getInputStream(), StandardCharsets.UTF_8))
        .readLine();
  }

  private void awaitGreeting(String sni, String expected) throws InterruptedException {
    TollgateFixture.await(
        () -> {
          try {
            return expected.equals(greeting(sni));
          } catch (Exception e) {
            return false;
          }
        },
        WITHIN,
        () -> sni + " never reached " + expected + "; " + dns);
  }

  private PoolServers pool(String name) {
    return tollgate.tollgate().snapshot().poolServers(name);
  }

  private long dnsCount(String pool, String outcome) {
    return PrometheusText.parse(tollgate.metrics().scrape())
        .value("tollgate_dns_resolutions_total", "pool", pool, "outcome", outcome)
        .stream()
        .mapToLong(d -> (long) d)
        .findFirst()
        .orElse(0L);
  }

  @Test
  void trafficMovesToTheNewAddressWhenTheRecordChangesWithItsHealthCheckAndOpenConnectionsFinish()
      throws Exception {
    int port = pair("one", "two");
    dns.a("app.tenant.test", "127.0.0.1");
    tollgate =
        TollgateFixture.start(
            dnsBlock()
                + "routes = [ { hosts = [\"app.test\"], pool = app } ]\n"
                + "pools.app { servers = [\"app.tenant.test:"
                + port
                + "\"], resolve-every = 200ms,"
                // initial = down: a new record takes traffic only once its own monitor passed
                + " health-check { type = tcp, interval = 100ms, timeout = 1s, rise = 1,"
                + " jitter = 0 } }");
    awaitGreeting("app.test", "one");
    try (TlsTestClient.Connection held = TlsTestClient.connect(tollgate.port(), "app.test", ca)) {
      BufferedReader in =
          new BufferedReader(
              new InputStreamReader(held.socket().getInputStream(), StandardCharsets.UTF_8));
      assertThat(in.readLine()).isEqualTo("one");

      dns.a("app.tenant.test", "127.0.0.2");
      awaitGreeting("app.test", "two");
      for (int i = 0; i < 5; i++) {
        assertThat(greeting("app.test")).isEqualTo("two");
      }
      assertThat(tollgate.tollgate().snapshot().pools().get("app").servers())
          .extracting(b -> b.address().getAddress().getHostAddress())
          .containsExactly("127.0.0.2");
      assertThat(
              tollgate.tollgate().snapshot().pools().get("app").servers().get(0).state().reason())
          .contains("tcp check passed");

      // The connection to the address no longer in the pool goes on.
      OutputStream out = held.socket().getOutputStream();
      out.write("still here\n".getBytes(StandardCharsets.UTF_8));
      out.flush();
      assertThat(in.readLine()).isEqualTo("still here");
    }
    assertThat(dnsCount("app", "success")).isGreaterThanOrEqualTo(2);
  }

  @Test
  void aReloadRehearsalAsksTheNameServersNothingAndTheAddressesInForceStay(@TempDir Path dir)
      throws Exception {
    TlsTestServer one = backend("127.0.0.1", 0, "one");
    dns.a("app.tenant.test", "127.0.0.1");
    tollgate =
        TollgateFixture.startIn(
            dir,
            dnsBlock()
                + "routes = [ { hosts = [\"app.test\"], pool = app } ]\n"
                + "pools.app { servers = [\"app.tenant.test:"
                + one.port()
                + "\"], resolve-every = 1h }");
    awaitGreeting("app.test", "one");
    int asked = dns.queries();

    // A round is dropped: asking every DNS-following pool's names in each of 60 rounds would be a
    // burst at the tenants' name servers (nothing is cached), and a slow one would stall it.
    assertThat(
            ReloadRehearsal.runHere(
                new Reloader(dir.resolve("tollgate.conf"), tollgate.tollgate()), 4))
        .isEqualTo(4);

    assertThat(dns.queries()).as("queries during the rehearsal").isEqualTo(asked);
    assertThat(greeting("app.test")).isEqualTo("one");
    assertThat(tollgate.tollgate().snapshot().pools().get("app").servers())
        .extracting(b -> b.address().getAddress().getHostAddress())
        .containsExactly("127.0.0.1");
  }

  @Test
  void aFailingNameServerKeepsTheLastGoodAddressesAndSaysSo() throws Exception {
    int port = pair("one", "two");
    dns.a("app.tenant.test", "127.0.0.1");
    tollgate =
        TollgateFixture.start(
            dnsBlock()
                + "routes = [ { hosts = [\"app.test\"], pool = app } ]\n"
                + "pools.app { servers = [\"app.tenant.test:"
                + port
                + "\"], resolve-every = 200ms }");
    assertThat(greeting("app.test")).isEqualTo("one");
    dns.failing(true);
    long before = dnsCount("app", "failure");
    TollgateFixture.await(() -> dnsCount("app", "failure") >= before + 2, WITHIN);
    assertThat(pool("app").stale()).isTrue();
    assertThat(pool("app").dnsStatus().get(0).lastError()).isNotBlank();
    assertThat(
            PrometheusText.parse(tollgate.metrics().scrape())
                .value("tollgate_pool_dns_stale", "pool", "app"))
        .hasValue(1.0);
    for (int i = 0; i < 5; i++) {
      assertThat(greeting("app.test")).isEqualTo("one");
    }
    // NXDOMAIN (the name deleted) also keeps the last good set.
    dns.failing(false);
    dns.remove("app.tenant.test");
    long failures = dnsCount("app", "failure");
    TollgateFixture.await(() -> dnsCount("app", "failure") >= failures + 2, WITHIN);
    assertThat(greeting("app.test")).isEqualTo("one");
    // Answers again: the new address is used and the pool is no longer stale.
    dns.a("app.tenant.test", "127.0.0.2");
    awaitGreeting("app.test", "two");
    TollgateFixture.await(() -> !pool("app").stale(), WITHIN);
  }

  @Test
  void srvRecordsGiveServersWithTheirPortsAndOnlyTheLowestPriority() throws Exception {
    TlsTestServer a = backend("127.0.0.1", 0, "a");
    TlsTestServer b = backend("127.0.0.1", 0, "b");
    TlsTestServer c = backend("127.0.0.1", 0, "c");
    dns.a("a.tenant.test", "127.0.0.1").a("b.tenant.test", "127.0.0.1");
    dns.a("c.tenant.test", "127.0.0.1");
    dns.srv(
        "_https._tcp.tenant.test",
        new Srv(10, 1, a.port(), "a.tenant.test"),
        new Srv(10, 1, b.port(), "b.tenant.test"),
        new Srv(20, 1, c.port(), "c.tenant.test"));
    tollgate =
        TollgateFixture.start(
            dnsBlock()
                + "routes = [ { hosts = [\"app.test\"], pool = app } ]\n"
                + "pools.app { srv = \"_https._tcp.tenant.test\", resolve-every = 200ms }");
    Map<String, Integer> seen = new HashMap<>();
    for (int i = 0; i < 20; i++) {
      seen.merge(greeting("app.test"), 1, Integer::sum);
    }
    assertThat(seen).containsOnlyKeys("a", "b");
    assertThat(seen.get("a")).isEqualTo(10); // equal weights, round-robin
    // The priority-10 records go: the priority-20 one takes over.
    dns.srv("_https._tcp.tenant.test", new Srv(20, 1, c.port(), "c.tenant.test"));
    awaitGreeting("app.test", "c");
    assertThat(pool("app").dnsStatus()).extracting(PoolServers.NameStatus::type).contains("SRV");
  }

  @Test
  void aaaaRecordsGiveIpv6Servers() throws Exception {
    TlsTestServer six = backend("::1", 0, "six");
    dns.aaaa("six.tenant.test", "::1");
    tollgate =
        TollgateFixture.start(
            dnsBlock()
                + "routes = [ { hosts = [\"app.test\"], pool = app } ]\n"
                + "pools.app { servers = [\"six.tenant.test:"
                + six.port()
                + "\"] }");
    assertThat(greeting("app.test")).isEqualTo("six");
    assertThat(tollgate.tollgate().snapshot().pools().get("app").servers().get(0).label())
        .isEqualTo("six.tenant.test:" + six.port() + "=[0:0:0:0:0:0:0:1]:" + six.port());
  }

  @Test
  void aNameThatDoesNotResolveAtLoadIsAWarningOtherRoutesWorkAndItJoinsOnceItResolves()
      throws Exception {
    TlsTestServer good = backend("127.0.0.1", 0, "good");
    TlsTestServer late = backend("127.0.0.1", 0, "late");
    String body =
        dnsBlock()
            + "routes = [ { hosts = [\"app.test\"], pool = app },"
            + " { hosts = [\"other.test\"], pool = other } ]\n"
            + "pools.app { servers = [\"127.0.0.1:"
            + good.port()
            + "\"] }\n"
            + "pools.other { servers = [\"missing.tenant.test:"
            + late.port()
            + "\"], resolve-every = 200ms }";
    tollgate = TollgateFixture.start(body);
    assertThat(tollgate.tollgate().snapshot().warnings())
        .anySatisfy(
            w ->
                assertThat(w.toString())
                    .contains("tollgate.pools.other.servers[0]")
                    .contains("cannot resolve host \"missing.tenant.test\""));
    assertThat(greeting("app.test")).isEqualTo("good");
    // The other tenant's name does not resolve: its clients are refused, never sent elsewhere.
    assertThatThrownBy(() -> greeting("other.test")).hasMessageContaining("internal_error");
    tollgate.awaitClosed(CloseReason.NO_HEALTHY_BACKEND, 1);
    // A reload with the name still unresolvable goes through.
    tollgate
        .tollgate()
        .reload(
            ConfigLoader.parse(
                "tollgate {\n  listeners = [ { name = main, address = \"127.0.0.1:0\" } ]\n"
                    + body
                    + "\n}\n",
                "it.conf"));
    assertThat(greeting("app.test")).isEqualTo("good");

    dns.a("missing.tenant.test", "127.0.0.1");
    awaitGreeting("other.test", "late");
    assertThat(greeting("app.test")).isEqualTo("good");
  }
}
