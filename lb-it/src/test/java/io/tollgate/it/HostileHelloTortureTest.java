package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.connection.CloseReason;
import io.tollgate.pki.CertificateAuthority;
import io.tollgate.pki.CertificateAuthority.KeyType;
import io.tollgate.testkit.TlsTestClient;
import io.tollgate.testkit.TlsTestServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Thousands of mutated ClientHellos (real ones from OpenSSL, BoringSSL, the JDK and Chromium,
 * changed by {@link HelloMutator}) sent over a few concurrent loopback sockets to a running
 * listener, in one write or several, followed by a FIN or by silence. Every connection must end by
 * Tollgate's doing (an answer such as an alert or the backend's ServerHello, or a close), within
 * the hello timeout where the hello never completes; every close must be counted under a named
 * reason other than {@code internal_error}; nothing may stay open or leak; and clean handshakes to
 * the routed name must keep working during the storm and after it.
 */
@Timeout(240)
class HostileHelloTortureTest {
  private static final int CONNECTIONS = 3000;
  private static final Duration BUDGET = Duration.ofSeconds(90);
  private static final int CONCURRENCY = 6;
  private static final long HELLO_TIMEOUT_MS = 500;

  /**
   * How long a connection may stay open after its last byte before the test calls it stuck: the
   * hello timeout plus generous slack for a loaded machine (the bound is on behaviour, not speed).
   */
  private static final int STUCK_MS = (int) HELLO_TIMEOUT_MS + 4_500;

  private static final String ROUTED = "good.test";
  private static final List<String> CAPTURED =
      List.of(
          "openssl-3.0-s_client.bin",
          "openssl-3.0-s_client-tls12.bin",
          "boringssl-tcnative.bin",
          "boringssl-tcnative-tls12.bin",
          "jdk17-tls13.bin",
          "chromium-156.bin");

  private static CertificateAuthority ca;
  private static TlsTestServer echo;
  private static TollgateFixture tollgate;

  @BeforeAll
  static void start() throws Exception {
    ca = CertificateAuthority.create("Tollgate torture CA", KeyType.EC_P256);
    echo = TlsTestServer.start(ca.issue(KeyType.EC_P256, ROUTED), TlsTestServer.echo());
    tollgate =
        TollgateFixture.start(
            String.format(
                """
        timeouts { client-hello = %dms, connect = 2s, idle = 10s }
        limits { max-client-hello = 16k }
        routes = [ { hosts = ["%s"], mode = passthrough, pool = good } ]
        pools { good { servers = ["127.0.0.1:%d"] } }
        """,
                HELLO_TIMEOUT_MS, ROUTED, echo.port()));
  }

  @AfterAll
  static void stop() {
    if (tollgate != null) {
      tollgate.close();
    }
    if (echo != null) {
      echo.close();
    }
  }

  /** How one hostile connection ended, seen from the client. */
  private enum Ending {
    ANSWERED,
    CLOSED,
    RESET,
    CLOSED_WHILE_SENDING
  }

  @Test
  void mutatedHellosAllEndWithANamedReasonAndCleanHellosStillRoute() throws Exception {
    List<byte[]> seeds = new ArrayList<>();
    for (String name : CAPTURED) {
      try (InputStream in = getClass().getResourceAsStream("/io/tollgate/testkit/hellos/" + name)) {
        assertThat(in).as("captured hello %s from lb-testkit", name).isNotNull();
        seeds.add(in.readAllBytes());
      }
    }
    seeds.add(JdkClientHello.forName(ROUTED, List.of("h2", "http/1.1")));
    Map<CloseReason, Long> before = tollgate.metrics().closedByReason();
    long acceptedBefore = tollgate.metrics().acceptedCount();

    Map<Ending, LongAdder> endings = new ConcurrentHashMap<>();
    for (Ending e : Ending.values()) {
      endings.put(e, new LongAdder());
    }
    ConcurrentLinkedQueue<String> stuck = new ConcurrentLinkedQueue<>();
    AtomicLong slowestSilentClose = new AtomicLong();
    AtomicInteger next = new AtomicInteger();
    long deadline = System.nanoTime() + BUDGET.toNanos();
    AtomicBoolean stormOver = new AtomicBoolean();
    ExecutorService pool = Executors.newFixedThreadPool(CONCURRENCY + 1);
    try {
      Future<Integer> clean = pool.submit(() -> cleanHandshakesUntil(stormOver));
      List<Future<?>> workers = new ArrayList<>();
      for (int w = 0; w < CONCURRENCY; w++) {
        long seed = 0x70_11_6a_7eL + w;
        workers.add(
            pool.submit(
                () -> {
                  HelloMutator mutator = new HelloMutator(seed);
                  Random random = new Random(seed);
                  for (int i;
                      (i = next.getAndIncrement()) < CONNECTIONS
                          && System.nanoTime() < deadline; ) {
                    byte[] seedHello = seeds.get(random.nextInt(seeds.size()));
                    HelloMutator.Mutant m = mutator.mutate(seedHello, ROUTED);
                    send(i, m, random, endings, stuck, slowestSilentClose);
                  }
                  return null;
                }));
      }
      for (Future<?> w : workers) {
        w.get(BUDGET.toSeconds() + 60, TimeUnit.SECONDS);
      }
      stormOver.set(true);
      int cleanDuring = clean.get(30, TimeUnit.SECONDS);
      assertThat(cleanDuring).as("clean handshakes routed during the storm").isPositive();

      int sent = Math.min(next.get(), CONNECTIONS);
      assertThat(stuck).as("connections Tollgate left open (of %d)", sent).isEmpty();
      assertThat(sent).as("hostile connections made within %s", BUDGET).isGreaterThan(500);

      // After the storm: a clean hello is still routed, and relayed both ways.
      assertThat(echoThrough()).isTrue();
      int cleanTotal = cleanDuring + 1;

      // Every connection Tollgate accepted is closed and counted under a named reason.
      long expected = acceptedBefore + sent + cleanTotal;
      TollgateFixture.await(
          () ->
              tollgate.metrics().activeCount() == 0
                  && closedSince(before).values().stream().mapToLong(Long::longValue).sum()
                      >= expected - acceptedBefore,
          Duration.ofSeconds(15));
      Map<CloseReason, Long> closed = closedSince(before);
      long closedTotal = closed.values().stream().mapToLong(Long::longValue).sum();
      System.out.printf(
          "HostileHelloTortureTest: %d mutated hellos (%d concurrent), %d clean"
              + " handshakes alongside%n  client saw: %s%n  Tollgate closed: %s%n"
              + "  slowest close of a silent, unanswered connection: %d ms (hello timeout %d ms)%n",
          sent,
          CONCURRENCY,
          cleanTotal,
          counts(endings),
          closed,
          slowestSilentClose.get(),
          HELLO_TIMEOUT_MS);
      assertThat(tollgate.metrics().acceptedCount()).as("accepted").isEqualTo(expected);
      assertThat(tollgate.metrics().activeCount()).as("still open").isZero();
      assertThat(closedTotal)
          .as("closes counted by reason: %s", closed)
          .isEqualTo(expected - acceptedBefore);
      assertThat(closed).as("reasons").doesNotContainKey(CloseReason.INTERNAL_ERROR);
      assertThat(closed.keySet())
          .as("the hostile input reached every hello verdict")
          .contains(
              CloseReason.BAD_HELLO,
              CloseReason.HELLO_TIMEOUT,
              CloseReason.NOT_TLS,
              CloseReason.HELLO_TOO_LARGE,
              CloseReason.NO_ROUTE);
    } finally {
      stormOver.set(true);
      pool.shutdownNow();
      assertThat(pool.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
    }
  }

  /**
   * One hostile connection: the bytes in one write or a few, then a FIN or silence; then wait for
   * Tollgate to answer or close, no longer than {@link #STUCK_MS}.
   */
  private static void send(
      int index,
      HelloMutator.Mutant m,
      Random random,
      Map<Ending, LongAdder> endings,
      ConcurrentLinkedQueue<String> stuck,
      AtomicLong slowestSilentClose) {
    boolean fin = random.nextBoolean();
    try (Socket s = new Socket()) {
      s.setTcpNoDelay(true);
      s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), tollgate.port()), 5_000);
      s.setSoTimeout(STUCK_MS);
      OutputStream out = s.getOutputStream();
      byte[] b = m.bytes();
      try {
        int pieces = random.nextInt(4) == 0 ? 2 + random.nextInt(6) : 1;
        for (int p = 0, pos = 0; p < pieces; p++) {
          int n = p == pieces - 1 ? b.length - pos : random.nextInt(b.length - pos + 1);
          out.write(b, pos, n);
          out.flush();
          pos += n;
        }
        if (fin) {
          s.shutdownOutput();
        }
      } catch (SocketException e) {
        endings.get(Ending.CLOSED_WHILE_SENDING).increment(); // Tollgate closed at a bad byte
        return;
      }
      long sentAt = System.nanoTime();
      InputStream in = s.getInputStream();
      try {
        int first = in.read();
        long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sentAt);
        if (first >= 0) {
          endings.get(Ending.ANSWERED).increment(); // an alert, or the backend's ServerHello
        } else {
          endings.get(Ending.CLOSED).increment();
          if (!fin) {
            slowestSilentClose.accumulateAndGet(waited, Math::max);
          }
        }
      } catch (SocketTimeoutException e) {
        stuck.add(
            "#"
                + index
                + " ("
                + m.description()
                + ", "
                + b.length
                + " bytes, "
                + (fin ? "FIN" : "no FIN")
                + ") still open after "
                + STUCK_MS
                + " ms");
      } catch (SocketException e) {
        endings.get(Ending.RESET).increment();
      }
    } catch (IOException e) {
      throw new UncheckedIOException("connection #" + index, e);
    }
  }

  /** Clean TLS handshakes through the routed name, back to back, until the storm is over. */
  private static int cleanHandshakesUntil(AtomicBoolean over) throws Exception {
    int n = 0;
    while (!over.get() && n < 2_000) {
      assertThat(echoThrough()).as("clean handshake #%d during the storm", n).isTrue();
      n++;
    }
    return n;
  }

  private static boolean echoThrough() throws IOException {
    try (TlsTestClient.Connection c = TlsTestClient.connect(tollgate.port(), ROUTED, ca)) {
      byte[] ping = "ping".getBytes(StandardCharsets.US_ASCII);
      c.socket().getOutputStream().write(ping);
      c.socket().getOutputStream().flush();
      return new String(c.socket().getInputStream().readNBytes(4), StandardCharsets.US_ASCII)
          .equals("ping");
    }
  }

  private static Map<CloseReason, Long> closedSince(Map<CloseReason, Long> before) {
    Map<CloseReason, Long> delta = new EnumMap<>(CloseReason.class);
    tollgate
        .metrics()
        .closedByReason()
        .forEach(
            (reason, n) -> {
              long d = n - before.getOrDefault(reason, 0L);
              if (d > 0) {
                delta.put(reason, d);
              }
            });
    return delta;
  }

  private static Map<Ending, Long> counts(Map<Ending, LongAdder> endings) {
    Map<Ending, Long> out = new TreeMap<>();
    endings.forEach((e, n) -> out.put(e, n.sum()));
    return out;
  }
}
