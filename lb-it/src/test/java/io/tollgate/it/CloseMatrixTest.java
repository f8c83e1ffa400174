package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tollgate.it.ClosePeer.End;
import io.tollgate.it.ClosePeer.Received;
import io.tollgate.pki.CertificateAuthority;
import io.tollgate.pki.CertificateAuthority.KeyType;
import io.tollgate.testkit.CommandLineTools;
import io.tollgate.testkit.CommandLineTools.ProcessResult;
import io.tollgate.testkit.DataPattern;
import io.tollgate.testkit.FreePorts;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * How connections end, in every mode and each direction: the peer that ends first sends data and
 * then FIN, data + close_notify + FIN in one write, close_notify with the TCP connection left open,
 * half-closes and keeps reading, or resets; and the client that goes away while the backend still
 * sends. Each case checks the SHA-256 of what the other side received, how its input ended
 * (close_notify or FIN, or a reset), the close reason in the access log, and that no exception went
 * unhandled. Real clients and servers too: curl ({@code --http1.0} and {@code Connection: close})
 * in every mode, Debian's nginx behind reencrypt.
 *
 * <p>The JDK peers are {@link ClosePeer}s (an SSLEngine over a plain socket, so the test decides
 * which bytes go in which write); every connection gets its own SNI under the mode's wildcard route
 * ({@code c17.re.test}), which finds its access log line.
 */
@Timeout(300)
class CloseMatrixTest {
  private static final long SEED = DataPattern.SERVER_SEED;
  private static final long REPLY_SEED = DataPattern.CLIENT_SEED;
  private static final long MIB = 1 << 20;
  private static final long LARGE = 64 * MIB;
  private static final Duration TOOL_TIMEOUT = Duration.ofSeconds(90);

  enum Mode {
    PASSTHROUGH("pass"),
    OFFLOAD("off"),
    REENCRYPT("re");

    final String domain;

    Mode(String domain) {
      this.domain = domain;
    }

    /** Tollgate's side toward the backend speaks TLS itself (it sees close_notify there). */
    boolean tlsTowardBackend() {
      return this == REENCRYPT;
    }

    boolean tlsTowardClient() {
      return this != PASSTHROUGH;
    }

    /** The backend speaks TLS (end to end in passthrough, with Tollgate in reencrypt). */
    boolean backendTls() {
      return this != OFFLOAD;
    }
  }

  enum Side {
    CLIENT,
    BACKEND;

    Side other() {
      return this == CLIENT ? BACKEND : CLIENT;
    }

    String label() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  enum Pattern {
    /** Data, then close: close_notify (TLS) and FIN at once. */
    DATA_THEN_FIN,
    /** Data records, close_notify and FIN in one write (TLS peers). */
    DATA_CLOSE_NOTIFY_FIN_ONE_WRITE,
    /** Data and close_notify, TCP stays open until the other side has closed (TLS peers). */
    CLOSE_NOTIFY_TCP_OPEN,
    /** Data, then close_notify (TLS) and FIN; reads the other side's answer to its end. */
    HALF_CLOSE_KEEP_READING,
    /** Data, then a TCP RST once the other side has it all. */
    RESET_AFTER_DATA
  }

  /** {@code closer} is the peer that ends first, the way {@code pattern} says. */
  record Case(Pattern pattern, Mode mode, Side closer, long size) {
    @Override
    public String toString() {
      return pattern
          + " "
          + mode
          + " by "
          + closer.label()
          + " "
          + size
          + "B"
          + (noTlsHalfClose() ? " (no answer: OpenSSL has no TLS half-close)" : "");
    }

    /**
     * A TLS peer that half-closes where Tollgate terminates its TLS gets no answer: Netty's OpenSSL
     * engine answers a received close_notify with its own and refuses every later write
     * (ReferenceCountedOpenSslEngine.closeAll, TLS 1.2 semantics; TLS 1.3 would allow the
     * half-close). Tollgate then ends the connection as closed by that peer and resets the other.
     */
    boolean noTlsHalfClose() {
      return pattern == Pattern.HALF_CLOSE_KEEP_READING
          && (closer == Side.CLIENT ? mode.tlsTowardClient() : mode.tlsTowardBackend());
    }

    /**
     * What an honest access log says (either, where two ends close at the same moment).
     *
     * @param answeredBeforeFin the receiver began its answer before the closer's FIN had left (see
     *     {@link Ends}); only a half-close in passthrough depends on it
     */
    List<String> expectedReasons(boolean answeredBeforeFin) {
      if (pattern == Pattern.RESET_AFTER_DATA) {
        return List.of(closer.label() + "_reset");
      }
      // Passthrough, half-close: the receiver's TLS stack ends its read at the closer's
      // close_notify, which Tollgate relays as data, and answers and closes without waiting for
      // the closer's FIN. The closer sends close_notify and FIN in two calls; a closer thread
      // preempted between them (seen under load: the write wakes Tollgate and the receiver) sends
      // its FIN only after the receiver answered, or even after the receiver's FIN. Then both
      // FINs are in flight at once and either may reach Tollgate first; backpressure can also
      // hold the receiver's FIN behind answer bytes the closer has not read yet. Before the
      // answer began, only the closer's FIN was on the wire: Tollgate must name the closer.
      if (mode == Mode.PASSTHROUGH
          && pattern == Pattern.HALF_CLOSE_KEEP_READING
          && answeredBeforeFin) {
        return List.of("client_closed", "backend_closed");
      }
      // Passthrough does not see TLS: the sender's close_notify is data to Tollgate, and the
      // receiver here closes as soon as it reads it. Its FIN can reach Tollgate before Tollgate
      // has read the sender's (after 64 MiB, reading the sender is paused while the receiver
      // drains; with close_notify alone, the sender's FIN only follows the receiver's close):
      // the two ends are simultaneous as far as Tollgate can see, and either may be first.
      if (mode == Mode.PASSTHROUGH && pattern != Pattern.HALF_CLOSE_KEEP_READING) {
        return List.of("client_closed", "backend_closed");
      }
      return List.of(closer.label() + "_closed");
    }
  }

  static Stream<Case> cases() {
    List<Case> cases = new ArrayList<>();
    for (Mode mode : Mode.values()) {
      for (Side side : Side.values()) {
        for (long size : new long[] {1, 1024, LARGE}) {
          cases.add(new Case(Pattern.DATA_THEN_FIN, mode, side, size));
        }
        boolean tlsPeer = side == Side.CLIENT || mode.backendTls();
        if (tlsPeer) {
          cases.add(new Case(Pattern.DATA_CLOSE_NOTIFY_FIN_ONE_WRITE, mode, side, 1024));
          cases.add(new Case(Pattern.DATA_CLOSE_NOTIFY_FIN_ONE_WRITE, mode, side, MIB));
          cases.add(new Case(Pattern.CLOSE_NOTIFY_TCP_OPEN, mode, side, 1024));
        }
        cases.add(new Case(Pattern.HALF_CLOSE_KEEP_READING, mode, side, 1024));
        cases.add(new Case(Pattern.RESET_AFTER_DATA, mode, side, 64 * 1024));
      }
    }
    // -DcloseMatrix.only=REENCRYPT runs the cases whose name contains that text.
    String only = System.getProperty("closeMatrix.only", "");
    return cases.stream().filter(c -> c.toString().contains(only)).filter(c -> runs(c.mode()));
  }

  @TempDir static Path dir;
  @RegisterExtension static final ClassResources resources = new ClassResources();
  private static final AtomicInteger ids = new AtomicInteger();
  private static CertificateAuthority ca;
  private static Path caPem;
  private static ScriptedBackend passBackend;
  private static ScriptedBackend offBackend;
  private static ScriptedBackend reBackend;
  static TollgateFixture tollgate;

  /** {@link SplicedCloseMatrixTest} runs: io.splice on, passthrough cases only. */
  private static boolean splicedRun;

  /** {@link HandshakeThreadsCloseMatrixTest} runs: ClientHello steps on io.handshake-threads. */
  private static boolean handshakeThreadsRun;

  private static int nginxPort;
  private static Process nginx;
  private UnhandledEvents unhandled;

  @BeforeAll
  static void start(TestInfo info) throws Exception {
    splicedRun =
        info.getTestClass().map(SplicedCloseMatrixTest.class::isAssignableFrom).orElse(false);
    handshakeThreadsRun =
        info.getTestClass()
            .map(HandshakeThreadsCloseMatrixTest.class::isAssignableFrom)
            .orElse(false);
    ca = CertificateAuthority.create("Tollgate Close Matrix CA", KeyType.EC_P256);
    caPem = ca.writeCertificatePem(dir.resolve("ca.pem"));
    ca.issue(KeyType.EC_P256, "*.off.test", "*.re.test", "*.nginx.test").writePem(dir, "front");
    ca.issue(KeyType.EC_P256, "*.nginx.test").writePem(dir, "nginx");
    passBackend =
        resources.add(
            new ScriptedBackend(ca.issue(KeyType.EC_P256, "*.pass.test").serverContext()));
    offBackend = resources.add(new ScriptedBackend(null));
    reBackend =
        resources.add(new ScriptedBackend(ca.issue(KeyType.EC_P256, "*.re.test").serverContext()));
    // Splice concerns passthrough only: the spliced run leaves nginx (reencrypt) out.
    nginxPort = splicedRun ? 1 : startNginx();
    java.util.concurrent.Callable<TollgateFixture> startTollgate =
        () ->
            TollgateFixture.startIn(
                dir,
                String.format(
                    """
        access-log { path = "access.log" }
        io { splice = %b, transport = %s, handshake-threads = %d, handshake-threads-when = always,
             handshake-priority = nice }
        timeouts { connect = 2s, idle = 60s }
        certificates { trusted-roots = "ca.pem" }
        routes = [
          { hosts = ["*.pass.test"], pool = pass }
          { hosts = ["*.off.test"], mode = offload, pool = off,
            certificate { chain = "front.pem", key = "front.key" } }
          { hosts = ["*.re.test"], mode = reencrypt, pool = re,
            certificate { chain = "front.pem", key = "front.key" } }
          { hosts = ["*.nginx.test"], mode = reencrypt, pool = nginx,
            certificate { chain = "front.pem", key = "front.key" } }
        ]
        pools {
          pass { servers = ["127.0.0.1:%d"], connect-attempts = 1, passive-ejection.failures = 0 }
          off { servers = ["127.0.0.1:%d"], connect-attempts = 1, passive-ejection.failures = 0 }
          re { servers = ["127.0.0.1:%d"], connect-attempts = 1, passive-ejection.failures = 0,
               tls { ca = "ca.pem" } }
          nginx { servers = ["127.0.0.1:%d"], connect-attempts = 1,
                  passive-ejection.failures = 0, tls { ca = "ca.pem" } }
        }
        """,
                    splicedRun,
                    TransportUnderTest.of(info),
                    handshakeThreadsRun ? 1 : 0,
                    passBackend.port(),
                    offBackend.port(),
                    reBackend.port(),
                    nginxPort));
    // The handshake-threads run: every step on the thread, at nice 19 (it always gets some CPU
    // on a busy test box), never taken back by the loop.
    tollgate =
        resources.add(
            handshakeThreadsRun
                ? HandshakeThreadsUnderTest.start(60_000, 0, startTollgate)
                : startTollgate.call());
  }

  @BeforeEach
  void captureUnhandled() {
    unhandled = UnhandledEvents.capture();
  }

  @AfterEach
  void stopCapturing() {
    unhandled.close();
    passBackend.clear();
    offBackend.clear();
    reBackend.clear();
  }

  @org.junit.jupiter.api.AfterAll
  static void stopNginx() throws InterruptedException {
    if (nginx != null) {
      nginx.destroy();
      if (!nginx.waitFor(5, TimeUnit.SECONDS)) {
        nginx.destroyForcibly();
      }
      // Static, shared by the subclasses: the spliced run (no nginx) must not see the last one.
      nginx = null;
    }
  }

  // ------------------------------------------------------------------------------ JDK matrix

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void closePattern(Case c) throws Exception {
    String sni = sni(c.mode());
    CountDownLatch delivered = new CountDownLatch(1);
    Ends ends = new Ends();
    ScriptedBackend.Script<Received> sender = peer -> send(c, peer, delivered, ends);
    ScriptedBackend.Script<Received> receiver = peer -> receive(c, peer, delivered, ends);
    CompletableFuture<Received> atBackend =
        backendOf(c.mode()).next(c.closer() == Side.BACKEND ? sender : receiver);
    Received atClient;
    try (ClosePeer client = connect(sni)) {
      atClient = (c.closer() == Side.CLIENT ? sender : receiver).run(client);
    } catch (IOException e) {
      throw new AssertionError("client failed; " + accessLine(sni), e);
    }
    Received backendSaw;
    try {
      backendSaw = atBackend.get(60, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      throw new AssertionError("backend failed; " + accessLine(sni), e.getCause());
    }
    Received received = c.closer() == Side.CLIENT ? backendSaw : atClient;
    Received senderSaw = c.closer() == Side.CLIENT ? atClient : backendSaw;

    Map<String, Object> line = accessLine(sni);
    assertThat(received.bytes())
        .as("bytes the %s received; %s", c.closer().other().label(), line)
        .isEqualTo(c.size());
    assertThat(received.sha256())
        .as("SHA-256 of what arrived")
        .isEqualTo(DataPattern.sha256Hex(SEED, c.size()));
    assertThat(received.end())
        .as("how the %s's input ended; %s", c.closer().other().label(), line)
        .isEqualTo(c.pattern() == Pattern.RESET_AFTER_DATA ? End.RESET : End.CLEAN);
    if (c.noTlsHalfClose()) {
      assertThat(senderSaw.bytes())
          .as(
              "no answer after a TLS half-close (if this fails, the "
                  + "TLS engine supports TLS 1.3 half-close now: expect the whole answer); %s",
              line)
          .isZero();
      assertThat(senderSaw.end()).isEqualTo(End.CLEAN);
    } else if (c.pattern() == Pattern.HALF_CLOSE_KEEP_READING) {
      assertThat(senderSaw.bytes()).as("the answer after the half-close; %s", line).isEqualTo(MIB);
      assertThat(senderSaw.sha256()).isEqualTo(DataPattern.sha256Hex(REPLY_SEED, MIB));
      assertThat(senderSaw.end()).isEqualTo(End.CLEAN);
    }
    if (c.pattern() == Pattern.CLOSE_NOTIFY_TCP_OPEN) {
      assertThat(senderSaw.end())
          .as("the end the sender saw once the other side closed")
          .isEqualTo(End.CLEAN);
    }
    assertThat(line.get("reason"))
        .as("%s; %s", line, ends)
        .isIn(c.expectedReasons(ends.answeredBeforeFin()));
    assertThat(unhandled.all()).isEmpty();
  }

  /**
   * Orders the two ends of a half-close by {@link System#nanoTime}: {@code finSent} is taken once
   * the closer's FIN has been handed to the kernel (a late bound), {@code answerStarted} before the
   * receiver's first answer byte is written (an early bound), so "FIN before answer" is never
   * claimed when it was not so.
   */
  static final class Ends {
    private volatile Long finSent;
    private volatile Long answerStarted;

    void finSent() {
      finSent = System.nanoTime();
    }

    void answerStarted() {
      answerStarted = System.nanoTime();
    }

    /** Both happened, and the receiver began to answer before the closer's FIN had left. */
    boolean answeredBeforeFin() {
      Long fin = finSent;
      Long answer = answerStarted;
      return fin != null && answer != null && answer - fin < 0;
    }

    @Override
    public String toString() {
      Long fin = finSent;
      Long answer = answerStarted;
      return fin == null || answer == null
          ? "no half-close answered"
          : String.format(
              "the receiver answered %+.3f ms after the closer's FIN", (answer - fin) / 1e6);
    }
  }

  /** The peer that ends first; returns what it read afterwards, if anything. */
  private static Received send(Case c, ClosePeer peer, CountDownLatch delivered, Ends ends)
      throws Exception {
    switch (c.pattern()) {
      // Each sender drains its input before it closes: a socket closed with bytes unread (a TLS
      // 1.3 session ticket is enough) answers with a reset, which would race the data.
      case DATA_THEN_FIN -> {
        peer.writePattern(SEED, c.size());
        peer.halfClose();
        peer.readToEnd();
        peer.close();
        return null;
      }
      case DATA_CLOSE_NOTIFY_FIN_ONE_WRITE -> {
        peer.writeAndEnd(pattern(SEED, c.size()), true);
        peer.readToEnd();
        peer.close();
        return null;
      }
      case CLOSE_NOTIFY_TCP_OPEN -> {
        peer.writeAndEnd(pattern(SEED, c.size()), false);
        Received after = peer.readToEnd(); // until the other side's close comes back
        peer.close();
        return after;
      }
      case HALF_CLOSE_KEEP_READING -> {
        peer.writePattern(SEED, c.size());
        peer.halfClose();
        ends.finSent();
        Received answer = peer.readToEnd();
        peer.close();
        return answer;
      }
      case RESET_AFTER_DATA -> {
        peer.writePattern(SEED, c.size());
        assertThat(delivered.await(30, TimeUnit.SECONDS)).as("data delivered").isTrue();
        peer.reset();
        return null;
      }
      default -> throw new IllegalStateException();
    }
  }

  /** The other side: reads to the end (answers a half-close), then closes. */
  private static Received receive(Case c, ClosePeer peer, CountDownLatch delivered, Ends ends)
      throws Exception {
    if (c.pattern() == Pattern.RESET_AFTER_DATA) {
      Received data = peer.read(c.size());
      delivered.countDown();
      Received rest = peer.readToEnd();
      peer.close();
      return new Received(
          data.bytes() + rest.bytes(), data.sha256(), data.end() != null ? data.end() : rest.end());
    }
    Received r = peer.readToEnd();
    if (c.pattern() == Pattern.HALF_CLOSE_KEEP_READING && r.end() == End.CLEAN) {
      ends.answerStarted();
      try {
        peer.writePattern(REPLY_SEED, MIB);
      } catch (IOException e) {
        // reset by Tollgate when the answer cannot go on (see Case.noTlsHalfClose); the
        // sender's side of the check says what arrived
      }
    }
    peer.close();
    return r;
  }

  // ------------------------------------------------------- the client goes while data flows

  @ParameterizedTest(name = "{0}")
  @EnumSource(Mode.class)
  void clientClosesFirstWhileTheBackendIsStillSending(Mode mode) throws Exception {
    assumeTrue(runs(mode), "not spliced");
    String sni = sni(mode);
    long limit = 512 * MIB;
    CompletableFuture<Long> sent =
        backendOf(mode)
            .next(
                peer -> {
                  long n = 0;
                  try {
                    DataPattern pattern = new DataPattern(SEED);
                    byte[] chunk = new byte[DataPattern.CHUNK];
                    while (n < limit) {
                      pattern.nextBytes(chunk, 0, chunk.length);
                      peer.write(chunk);
                      n += chunk.length;
                    }
                  } catch (IOException e) {
                    return n; // the end of the client reached the backend
                  }
                  return n;
                });
    try (ClosePeer client = connect(sni)) {
      Received first = client.read(MIB);
      assertThat(first.sha256()).isEqualTo(DataPattern.sha256Hex(SEED, MIB));
      // Unread bytes in the kernel make the close a reset. Without them (a loaded machine can
      // keep Tollgate from writing more before the client closes) this would be the clean close
      // of clientClosesCleanlyWhileTheBackendIsStillSending, with its own reason.
      awaitUnreadBytes(client);
    }
    assertThat(sent.get(60, TimeUnit.SECONDS))
        .as("bytes the backend sent before it learned")
        .isLessThan(limit);
    Map<String, Object> line = accessLine(sni);
    // The client closed with bytes unread, which its kernel answers with a reset (after its
    // close_notify: a FIN reason gives way to the reset). Tollgate learns it from a read or, as
    // often, from its next write to the client; either way the log says so. Where Tollgate ends
    // TLS, the read of the close_notify can complete, and Tollgate end the connection on it,
    // before the reset behind it is reported: on io_uring 1 run in 4, on epoll when the machine
    // is loaded (1 run in 4 with a core hogged, with and without handshake threads). The
    // client's end either way; the bytes the backend sent above are what bounds the cost.
    if (mode != Mode.PASSTHROUGH) {
      assertThat(line.get("reason")).as("%s", line).isIn("client_reset", "client_closed");
    } else {
      assertThat(line.get("reason")).as("%s", line).isEqualTo("client_reset");
    }
    assertThat(unhandled.all()).isEmpty();
  }

  /**
   * The client reads what the backend sent so far, leaves nothing unread and closes cleanly (TLS:
   * close_notify and FIN; passthrough: FIN), then the backend streams on. The backend must learn
   * soon that nobody reads: where Tollgate terminates TLS, the client's close_notify closed the
   * session both ways (Netty's OpenSSL engine has no TLS half-close), so the bytes have nowhere to
   * go and the backend is reset at its first ones; before, the relay read and dropped all 512 MiB,
   * because a write into the closed engine fails without a word. In passthrough the client's kernel
   * resets the relayed bytes, and Tollgate's write to the client fails.
   */
  @ParameterizedTest(name = "{0}")
  @EnumSource(Mode.class)
  void clientClosesCleanlyWhileTheBackendIsStillSending(Mode mode) throws Exception {
    assumeTrue(runs(mode), "not spliced");
    String sni = sni(mode);
    long limit = 512 * MIB;
    CompletableFuture<Long> sent =
        backendOf(mode)
            .next(
                peer -> {
                  long n = 0;
                  DataPattern pattern = new DataPattern(SEED);
                  byte[] chunk = new byte[DataPattern.CHUNK];
                  try {
                    while (n < limit) {
                      if (n == MIB) {
                        // Streams on only once the client's end came through Tollgate (its
                        // half-close here): had it been only the client's close, Tollgate could
                        // relay the next bytes before it read the close_notify, and its write
                        // into the gone client, not the close_notify, would end the connection
                        // (CI, 2026-12-06: client_reset in offload).
                        peer.socket().setSoTimeout(30_000);
                        assertThat(peer.readToEnd().end()).isEqualTo(ClosePeer.End.CLEAN);
                      }
                      pattern.nextBytes(chunk, 0, chunk.length);
                      peer.write(chunk);
                      n += chunk.length;
                    }
                  } catch (IOException e) {
                    return n; // reset: the end of the client reached the backend
                  }
                  return n;
                });
    try (ClosePeer client = connect(sni)) {
      Received first = client.read(MIB);
      assertThat(first.sha256()).isEqualTo(DataPattern.sha256Hex(SEED, MIB));
      assertThat(client.socket().getInputStream().available()).as("bytes unread").isZero();
    }
    assertThat(sent.get(60, TimeUnit.SECONDS))
        .as("bytes the backend sent before it learned")
        .isLessThan(limit);
    Map<String, Object> line = accessLine(sni);
    // Passthrough learns from its write that the client's kernel refused; where Tollgate ends
    // TLS, the client's close_notify was its last word, and nothing failed on that side.
    assertThat(line.get("reason"))
        .as("%s", line)
        .isEqualTo(mode == Mode.PASSTHROUGH ? "client_reset" : "client_closed");
    assertThat(unhandled.all()).isEmpty();
  }

  /**
   * The backend ends its TLS session (close_notify, its TCP left open) while the client uploads.
   * Tollgate's engine toward the backend closed both ways, so the client's further bytes cannot
   * arrive: they are dropped (not relayed, not activity), and the client, which may be sending the
   * rest of a body before it reads an early answer, is not reset for it (nginx's lingering close).
   * Once it has everything and goes quiet, Tollgate closes it. Before: the dropped upload counted
   * as activity and nothing ended the connection before the idle timeout; then, for a while, the
   * client was reset at its first byte.
   */
  @Test
  void clientUploadsAfterTheBackendEndedTlsAndIsClosedCleanlyOnceQuiet() throws Exception {
    assumeTrue(runs(Mode.REENCRYPT), "not spliced");
    String sni = sni(Mode.REENCRYPT);
    CompletableFuture<Received> atBackend =
        backendOf(Mode.REENCRYPT)
            .next(
                peer -> {
                  Received first = peer.read(MIB);
                  peer.writeAndEnd(pattern(SEED, 1024), false);
                  Received rest = peer.readToEnd(); // until Tollgate closes
                  peer.close();
                  return new Received(first.bytes() + rest.bytes(), first.sha256(), rest.end());
                });
    try (ClosePeer client = connect(sni)) {
      DataPattern pattern = new DataPattern(REPLY_SEED);
      byte[] chunk = new byte[DataPattern.CHUNK];
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
      while (System.nanoTime() < until) { // ~64 MiB/s for 3 s, well past the backend's end
        pattern.nextBytes(chunk, 0, chunk.length);
        client.write(chunk);
        Thread.sleep(1);
      }
      Received answer = client.readToEnd();
      assertThat(answer.bytes()).as("the backend's answer").isEqualTo(1024);
      assertThat(answer.sha256()).isEqualTo(DataPattern.sha256Hex(SEED, 1024));
      assertThat(answer.end()).isEqualTo(End.CLEAN);
      // The client stays open and quiet: Tollgate ends the connection through the linger (a
      // check every 5 s once the client went quiet), not the 60 s idle timeout, and not before
      // the client stopped uploading.
      Map<String, Object> line = accessLine(sni);
      assertThat(line.get("reason")).as("%s", line).isEqualTo("backend_closed");
      assertThat((Double) line.get("duration_ms")).as("%s", line).isBetween(4_000.0, 30_000.0);
    }
    Received backendSaw = atBackend.get(60, TimeUnit.SECONDS);
    assertThat(backendSaw.sha256())
        .as("the first MiB reached the backend")
        .isEqualTo(DataPattern.sha256Hex(REPLY_SEED, MIB));
    assertThat(unhandled.all()).isEmpty();
  }

  /** Waits until the kernel holds bytes the client has not read (bounded). */
  private static void awaitUnreadBytes(ClosePeer client) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (client.socket().getInputStream().available() == 0) {
      assertThat(System.nanoTime()).as("bytes unread by the client").isLessThan(deadline);
      Thread.sleep(1);
    }
  }

  /**
   * The client reads nothing and resets while the backend floods it: Tollgate has bytes queued for
   * the client, so on the reset epoll reports the socket writable-with-error, Netty flushes first,
   * and the failed write, not a read, is what tells Tollgate. The log must still say {@code
   * client_reset} (it said {@code client_closed}: Netty closed the channel on the failed write, and
   * the access log ran before the relay heard why).
   */
  @ParameterizedTest(name = "{0}")
  @EnumSource(Mode.class)
  void clientResetsWhileItsWritesArePending(Mode mode) throws Exception {
    assumeTrue(runs(mode), "not spliced");
    String sni = sni(mode);
    long limit = 512 * MIB;
    AtomicLong progress = new AtomicLong(); // nanoTime of the backend's last completed write
    AtomicLong sentSoFar = new AtomicLong();
    CompletableFuture<Long> sent =
        backendOf(mode)
            .next(
                peer -> {
                  byte[] chunk = new byte[DataPattern.CHUNK];
                  new DataPattern(SEED).nextBytes(chunk, 0, chunk.length);
                  try {
                    while (sentSoFar.get() < limit) {
                      peer.write(chunk);
                      sentSoFar.addAndGet(chunk.length);
                      progress.set(System.nanoTime());
                    }
                  } catch (IOException e) {
                    return sentSoFar.get(); // Tollgate reset the backend
                  }
                  return sentSoFar.get();
                });
    try (ClosePeer client = connect(sni)) {
      // The path to the client is full once the backend's writes stall: Tollgate stopped reading
      // it because its buffer toward the client is over the high water mark, and stays so.
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (sentSoFar.get() < MIB
          || System.nanoTime() - progress.get() < Duration.ofMillis(300).toNanos()) {
        assertThat(System.nanoTime())
            .as("the backend's writes stall (%d bytes sent)", sentSoFar.get())
            .isLessThan(deadline);
        assertThat(sent).as("the backend is still writing").isNotDone();
        Thread.sleep(20);
      }
      client.reset();
    }
    assertThat(sent.get(60, TimeUnit.SECONDS))
        .as("bytes the backend sent before Tollgate reset it")
        .isLessThan(limit);
    Map<String, Object> line = accessLine(sni);
    assertThat(line.get("reason")).as("%s", line).isEqualTo("client_reset");
    assertThat((String) line.get("detail")).as("%s", line).contains("Connection reset");
    assertThat(unhandled.all()).isEmpty();
  }

  // ---------------------------------------------------------------------------------- curl

  static Stream<Object[]> curlCases() {
    List<Object[]> cases = new ArrayList<>();
    for (Mode mode : Mode.values()) {
      if (!runs(mode)) {
        continue;
      }
      cases.add(new Object[] {mode, "--http1.0", 1024L});
      cases.add(new Object[] {mode, "--http1.0", LARGE});
      cases.add(new Object[] {mode, "Connection: close", 1L});
      cases.add(new Object[] {mode, "Connection: close", LARGE});
    }
    return cases.stream();
  }

  @ParameterizedTest(name = "{0} curl {1} {2}B")
  @MethodSource("curlCases")
  void curlGetsAWholeCloseDelimitedResponse(Mode mode, String how, long size) throws Exception {
    String curl = tool("curl");
    String sni = sni(mode);
    boolean http10 = how.equals("--http1.0");
    CompletableFuture<String> request =
        backendOf(mode)
            .next(
                peer -> {
                  String head = readHead(peer);
                  peer.write(
                      ((http10 ? "HTTP/1.0" : "HTTP/1.1")
                              + " 200 OK\r\n"
                              + "Content-Type: application/octet-stream\r\n"
                              + (http10 ? "" : "Connection: close\r\n")
                              + "\r\n")
                          .getBytes(StandardCharsets.US_ASCII));
                  peer.writePattern(SEED, size);
                  peer.close();
                  return head;
                });
    Path out = dir.resolve(sni + ".body");
    List<String> command =
        new ArrayList<>(
            List.of(
                curl,
                "-sS",
                "--max-time",
                "60",
                "--resolve",
                sni + ":" + tollgate.port() + ":127.0.0.1",
                "--cacert",
                caPem.toString(),
                "-o",
                out.toString(),
                "-w",
                "%{http_code} %{size_download}"));
    command.addAll(http10 ? List.of("--http1.0") : List.of("--http1.1", "-H", "Connection: close"));
    command.add("https://" + sni + ":" + tollgate.port() + "/data");
    ProcessResult r = CommandLineTools.run(TOOL_TIMEOUT, command);
    String head = request.get(30, TimeUnit.SECONDS);
    Map<String, Object> line = accessLine(sni);

    assertThat(r.ok()).as("%s\n%s", r, line).isTrue();
    assertThat(head).startsWith("GET /data HTTP/1." + (http10 ? "0" : "1"));
    assertThat(r.stdout()).isEqualTo("200 " + size);
    assertThat(sha256(out)).isEqualTo(DataPattern.sha256Hex(SEED, size));
    if (mode == Mode.PASSTHROUGH) {
      // The origin's close_notify and its FIN are two writes; in passthrough the close_notify is
      // opaque bytes Tollgate relays at once, and curl may close on it before the FIN arrives.
      assertThat(line.get("reason")).as("%s", line).isIn("backend_closed", "client_closed");
    } else {
      assertThat(line.get("reason")).as("%s", line).isEqualTo("backend_closed");
    }
    assertThat(unhandled.all()).isEmpty();
    Files.delete(out);
  }

  // --------------------------------------------------------------------- nginx (reencrypt)

  @Test
  void nginxReturn200WithConnectionCloseReachesCurlEveryTime() throws Exception {
    String curl = tool("curl");
    assumeTrue(nginx != null, "nginx is not installed");
    for (int i = 0; i < 5; i++) {
      String sni = sni("nginx");
      ProcessResult r =
          CommandLineTools.run(
              TOOL_TIMEOUT,
              curl,
              "-sS",
              "--max-time",
              "30",
              "--http1.1",
              "-H",
              "Connection: close",
              "--resolve",
              sni + ":" + tollgate.port() + ":127.0.0.1",
              "--cacert",
              caPem.toString(),
              "https://" + sni + ":" + tollgate.port() + "/");
      Map<String, Object> line = accessLine(sni);
      assertThat(r.ok()).as("%s\n%s", r, line).isTrue();
      assertThat(r.stdout()).isEqualTo("hello from nginx\n");
      // The body has a Content-Length, so curl may close as soon as it has it: nginx writes its
      // response, its close_notify and its FIN apart, and curl's close can reach Tollgate first
      // (seen once in a CI run). Whichever side it saw close first, curl got the whole answer.
      assertThat(line.get("reason")).as("%s", line).isIn("backend_closed", "client_closed");
    }
    assertThat(unhandled.all()).isEmpty();
  }

  @Test
  void nginx64MiBFileReachesCurlHttp10Whole() throws Exception {
    String curl = tool("curl");
    assumeTrue(nginx != null, "nginx is not installed");
    String sni = sni("nginx");
    Path out = dir.resolve(sni + ".body");
    ProcessResult r =
        CommandLineTools.run(
            TOOL_TIMEOUT,
            curl,
            "-sS",
            "--max-time",
            "60",
            "--http1.0",
            "--resolve",
            sni + ":" + tollgate.port() + ":127.0.0.1",
            "--cacert",
            caPem.toString(),
            "-o",
            out.toString(),
            "-w",
            "%{http_code} %{size_download}",
            "https://" + sni + ":" + tollgate.port() + "/64m");
    Map<String, Object> line = accessLine(sni);
    assertThat(r.ok()).as("%s\n%s", r, line).isTrue();
    assertThat(r.stdout()).isEqualTo("200 " + LARGE);
    assertThat(sha256(out)).isEqualTo(DataPattern.sha256Hex(SEED, LARGE));
    assertThat(line.get("reason")).as("%s", line).isEqualTo("backend_closed");
    assertThat(unhandled.all()).isEmpty();
    Files.delete(out);
  }

  @Test
  void nginx64MiBFileReachesAJdkClientWithCloseNotify() throws Exception {
    assumeTrue(nginx != null, "nginx is not installed");
    String sni = sni("nginx");
    Received body;
    try (ClosePeer client = connect(sni)) {
      client.write(
          ("GET /64m HTTP/1.0\r\nHost: " + sni + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      String head = readHead(client);
      assertThat(head).startsWith("HTTP/1.1 200");
      body = client.readToEnd();
    }
    Map<String, Object> line = accessLine(sni);
    assertThat(body.bytes()).as("%s", line).isEqualTo(LARGE);
    assertThat(body.sha256()).isEqualTo(DataPattern.sha256Hex(SEED, LARGE));
    assertThat(body.end()).isEqualTo(End.CLEAN);
    assertThat(line.get("reason")).as("%s", line).isEqualTo("backend_closed");
    assertThat(unhandled.all()).isEmpty();
  }

  // ------------------------------------------------------------------------------- helpers

  /** Whether this run covers {@code mode} (the spliced run: passthrough only). */
  private static boolean runs(Mode mode) {
    return !splicedRun || mode == Mode.PASSTHROUGH;
  }

  private static String sni(Mode mode) {
    return sni(mode.domain);
  }

  private static String sni(String domain) {
    return "c" + ids.incrementAndGet() + "." + domain + ".test";
  }

  private static ScriptedBackend backendOf(Mode mode) {
    return switch (mode) {
      case PASSTHROUGH -> passBackend;
      case OFFLOAD -> offBackend;
      case REENCRYPT -> reBackend;
    };
  }

  private static ClosePeer connect(String sni) throws IOException {
    Socket socket = new Socket();
    socket.connect(
        new InetSocketAddress(InetAddress.getLoopbackAddress(), tollgate.port()), 10_000);
    socket.setSoTimeout(30_000);
    socket.setTcpNoDelay(true);
    return ClosePeer.tlsClient(socket, ca.clientContext(), sni);
  }

  private static byte[] pattern(long seed, long size) {
    byte[] bytes = new byte[Math.toIntExact(size)];
    new DataPattern(seed).nextBytes(bytes, 0, bytes.length);
    return bytes;
  }

  /** Reads an HTTP head, byte by byte so nothing after the empty line is consumed. */
  private static String readHead(ClosePeer peer) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    byte[] one = new byte[1];
    while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
      if (peer.read(one) != 1) {
        throw new IOException("end of input inside the head: " + head);
      }
      head.write(one[0]);
    }
    return head.toString(StandardCharsets.ISO_8859_1);
  }

  private static String sha256(Path file) throws Exception {
    MessageDigest digest = MessageDigest.getInstance("SHA-256");
    try (var in = Files.newInputStream(file)) {
      byte[] buffer = new byte[DataPattern.CHUNK];
      for (int n; (n = in.read(buffer)) != -1; ) {
        digest.update(buffer, 0, n);
      }
    }
    return HexFormat.of().formatHex(digest.digest());
  }

  /** The access log line of the connection with this SNI, once it has closed. */
  private static Map<String, Object> accessLine(String sni) throws Exception {
    return AccessLogFile.lineFor(dir.resolve("access.log"), sni, Duration.ofSeconds(15));
  }

  private static String tool(String name) {
    Optional<Path> path = CommandLineTools.which(name);
    assumeTrue(path.isPresent(), name + " is not installed");
    return path.get().toString();
  }

  /** Debian's nginx with TLS on a free port; returns the port (an unused one without nginx). */
  private static int startNginx() throws Exception {
    int port = FreePorts.next();
    Optional<Path> bin =
        CommandLineTools.which("nginx")
            .or(() -> Optional.of(Path.of("/usr/sbin/nginx")).filter(Files::isExecutable));
    if (bin.isEmpty()) {
      return port;
    }
    Path nd = Files.createDirectories(dir.resolve("nginx-run"));
    Path root = Files.createDirectories(nd.resolve("root"));
    try (OutputStream out = Files.newOutputStream(root.resolve("64m"))) {
      DataPattern.writeTo(out, SEED, LARGE);
    }
    Files.writeString(
        nd.resolve("nginx.conf"),
        String.format(
            """
        daemon off;
        master_process off;
        worker_processes 1;
        pid %1$s/nginx.pid;
        error_log %1$s/error.log info;
        events { worker_connections 64; }
        http {
          access_log off;
          client_body_temp_path %1$s/body;
          proxy_temp_path %1$s/proxy;
          fastcgi_temp_path %1$s/fastcgi;
          uwsgi_temp_path %1$s/uwsgi;
          scgi_temp_path %1$s/scgi;
          server {
            listen 127.0.0.1:%2$d ssl;
            ssl_certificate %3$s/nginx.pem;
            ssl_certificate_key %3$s/nginx.key;
            root %4$s;
            location = / { return 200 "hello from nginx\\n"; }
          }
        }
        """,
            nd, port, dir, root));
    nginx =
        new ProcessBuilder(
                bin.get().toString(),
                "-p",
                nd.toString(),
                "-c",
                nd.resolve("nginx.conf").toString(),
                "-e",
                nd.resolve("error.log").toString())
            .redirectErrorStream(true)
            .redirectOutput(nd.resolve("stdout.log").toFile())
            .start();
    long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    while (true) {
      assertThat(nginx.isAlive())
          .as(
              "nginx exited: %s",
              Files.exists(nd.resolve("error.log"))
                  ? Files.readString(nd.resolve("error.log"))
                  : "(no log)")
          .isTrue();
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
        return port;
      } catch (IOException e) {
        assertThat(System.nanoTime()).as("nginx listening on %d", port).isLessThan(deadline);
        Thread.sleep(50);
      }
    }
  }
}
