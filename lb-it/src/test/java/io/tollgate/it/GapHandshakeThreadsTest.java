package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.config.IoConfig.HandshakeThreadsWhen;
import io.tollgate.handshake.HandshakeThreads;
import io.tollgate.pki.CertificateAuthority;
import io.tollgate.pki.CertificateAuthority.KeyType;
import io.tollgate.testkit.TlsTestServer;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code io.handshake-threads-when = gaps}: ClientHello steps wait in the loop's paced queue, and
 * only while its turns pause for another tenant's work does an idle handshake thread take the next
 * waiting ones. One tenant alone keeps every step on the loop; under a flood beside another tenant
 * the threads run part of them, each connection still gets its own route's certificate, and clients
 * that leave right after their hello (a hello flood's way) end cleanly.
 */
@Timeout(180)
class GapHandshakeThreadsTest {
  @TempDir static Path dir;
  @RegisterExtension static final ClassResources resources = new ClassResources();
  private static CertificateAuthority ca;
  private static TollgateFixture tollgate;

  @BeforeAll
  static void start() throws Exception {
    HandshakeThreadsUnderTest.assumeChrt();
    ca = CertificateAuthority.create("Tollgate Gap Handshake CA", KeyType.EC_P256);
    ca.writeCertificatePem(dir.resolve("ca.pem"));
    ca.issue(KeyType.EC_P256, "a.test").writePem(dir, "a");
    ca.issue(KeyType.EC_P256, "b.test").writePem(dir, "b");
    TlsTestServer backend = resources.add(TlsTestServer.startPlain(TlsTestServer.greet("plain")));
    TlsTestServer passBackend =
        resources.add(
            TlsTestServer.start(
                ca.issue(KeyType.EC_P256, "pass.test"), TlsTestServer.greet("pass")));
    // One worker loop, so the other tenant's connections pace the loop the steps wait on.
    tollgate =
        resources.add(
            HandshakeThreadsUnderTest.start(
                3_000,
                0,
                () ->
                    TollgateFixture.startIn(
                        dir,
                        """
        io { worker-threads = 1, handshake-threads = auto, handshake-threads-when = gaps }
        routes = [
          { hosts = ["pass.test"], pool = pass }
          { hosts = ["a.test"], mode = offload, pool = p,
            certificate { chain = "a.pem", key = "a.key" } }
          { hosts = ["b.test"], mode = offload, pool = p,
            certificate { chain = "b.pem", key = "b.key" } }
        ]
        pools {
          p { servers = ["127.0.0.1:%d"] }
          pass { servers = ["127.0.0.1:%d"] }
        }
        """
                            .formatted(backend.port(), passBackend.port()))));
    assertThat(threads().when()).isEqualTo(HandshakeThreadsWhen.GAPS);
  }

  private static HandshakeThreads threads() {
    return tollgate.tollgate().handshakeThreads();
  }

  /**
   * Steps that went to the thread so far: run there, waiting or running now, or taken back by the
   * loop after waiting for a thread the test's clients left no CPU to.
   */
  private static long sentToTheThread() {
    return threads().stepsRun() + threads().backlog() + threads().stepsReclaimed();
  }

  @Test
  void oneTenantAloneKeepsEveryStepOnTheLoopEvenWhenTheyQueue() throws Exception {
    Thread.sleep(200); // past the pacing of any other tenant's connections before this test
    long sent = sentToTheThread();
    // Eight clients at once: steps queue, but no other tenant paces the loop, so no pause.
    assertThat(handshakes(8, 5, List.of("a.test", "b.test"))).isEqualTo(40);
    assertThat(sentToTheThread() - sent).as("steps sent to the handshake thread").isZero();
  }

  @Test
  void underAFloodBesideAnotherTenantThePausesGoToTheThreadAndEachRouteKeepsItsCertificate()
      throws Exception {
    long sent = sentToTheThread();
    try (OtherTenant other = otherTenant()) {
      // handshakes() checks every connection got the certificate of the name it asked for.
      assertThat(handshakes(12, 10, List.of("a.test", "b.test"))).isEqualTo(120);
      assertThat(greeting("pass.test")).as("the other tenant, during the flood").isEqualTo("pass");
    }
    assertThat(sentToTheThread() - sent)
        .as("ClientHello steps sent to the thread in the loop's pauses")
        .isPositive();
  }

  @Test
  void clientsLeavingRightAfterTheirHelloDuringTheFloodDoNotHurtTheOthers() throws Exception {
    long sent = sentToTheThread();
    AtomicBoolean stop = new AtomicBoolean();
    ExecutorService leavers = Executors.newFixedThreadPool(4);
    List<Future<Integer>> left = new ArrayList<>();
    try (OtherTenant other = otherTenant()) {
      for (int i = 0; i < 4; i++) {
        boolean reset = i % 2 == 0;
        left.add(leavers.submit(() -> helloAndLeave("a.test", reset, stop)));
      }
      assertThat(handshakes(8, 10, List.of("b.test", "a.test"))).isEqualTo(80);
      stop.set(true);
      for (Future<Integer> f : left) {
        assertThat(f.get(60, TimeUnit.SECONDS)).as("hellos sent and left").isPositive();
      }
      assertThat(greeting("pass.test")).isEqualTo("pass");
    } finally {
      stop.set(true);
      leavers.shutdownNow();
    }
    assertThat(sentToTheThread() - sent).isPositive();
    assertThat(greeting("a.test")).as("the next connection").isEqualTo("plain");
  }

  /**
   * {@code clients} threads each make {@code each} full handshakes, names taken in turn, checking
   * every certificate; returns how many were served.
   */
  private static int handshakes(int clients, int each, List<String> names) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    try {
      List<Future<Integer>> done = new ArrayList<>();
      for (int c = 0; c < clients; c++) {
        int first = c;
        done.add(
            pool.submit(
                () -> {
                  int served = 0;
                  for (int i = 0; i < each; i++) {
                    String name = names.get((first + i) % names.size());
                    assertThat(servedName(name)).as("certificate for %s", name).isEqualTo(name);
                    served++;
                  }
                  return served;
                }));
      }
      int total = 0;
      for (Future<Integer> f : done) {
        total += f.get(120, TimeUnit.SECONDS);
      }
      return total;
    } finally {
      pool.shutdownNow();
    }
  }

  /** Sends a ClientHello and leaves at once (reset or FIN), over and over until {@code stop}. */
  private static int helloAndLeave(String name, boolean reset, AtomicBoolean stop)
      throws Exception {
    byte[] hello = JdkClientHello.forName(name, List.of());
    int n = 0;
    // Bounded: the test stops it, and its timeout ends it anyway.
    for (; n < 5_000 && !stop.get(); n++) {
      try (Socket s = new Socket(InetAddress.getLoopbackAddress(), tollgate.port())) {
        if (reset) {
          s.setSoLinger(true, 0);
        }
        OutputStream out = s.getOutputStream();
        out.write(hello);
        out.flush();
      }
    }
    return n;
  }

  private static String greeting(String name) throws Exception {
    return new CertificateProbe(ca, tollgate.port()).greeting(name);
  }

  private static String servedName(String name) throws Exception {
    return new CertificateProbe(ca, tollgate.port()).servedName(name, "plain");
  }

  /** Passthrough hellos every 2 ms: the loop's handshake turns are paced. */
  private static OtherTenant otherTenant() throws InterruptedException {
    return OtherTenant.start(tollgate.port(), "pass.test", 2, 40_000);
  }
}
