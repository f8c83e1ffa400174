package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.tollgate.it.ClosePeer.Received;
import io.tollgate.pki.CertificateAuthority;
import io.tollgate.pki.CertificateAuthority.KeyType;
import io.tollgate.testkit.DataPattern;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * What a TLS peer sends after its own close_notify, and what the other side is owed when the peer
 * that ended TLS is not the one still sending. After a close_notify Netty's OpenSSL engine consumes
 * nothing more, so without {@code ClosedTlsInput} every later byte piled up in the SslHandler (50
 * MiB in 15 s, reads off or not); and the first fix for bytes that have nowhere to go reset their
 * sender while it was still owed the end of an answer.
 */
@Timeout(180)
class AfterCloseNotifyTest {
  private static final long MIB = 1 << 20;

  @TempDir static Path dir;
  @RegisterExtension static final ClassResources resources = new ClassResources();
  private static final AtomicInteger ids = new AtomicInteger();
  private static CertificateAuthority ca;
  private static ScriptedBackend offBackend;
  private static ScriptedBackend reBackend;
  private static ServerSocket silent;
  private static final List<Socket> silentAccepted = new ArrayList<>();
  static TollgateFixture tollgate;

  @BeforeAll
  static void start(TestInfo info) throws Exception {
    ca = CertificateAuthority.create("After close_notify CA", KeyType.EC_P256);
    ca.writeCertificatePem(dir.resolve("ca.pem"));
    ca.issue(KeyType.EC_P256, "*.off.test", "*.stall.test", "*.re.test").writePem(dir, "front");
    offBackend = resources.add(new ScriptedBackend(null));
    reBackend =
        resources.add(new ScriptedBackend(ca.issue(KeyType.EC_P256, "*.re.test").serverContext()));
    // Accepts TCP and never says a word: a reencrypt handshake toward it stays pending.
    silent = new ServerSocket(0, 128, InetAddress.getLoopbackAddress());
    Thread t =
        new Thread(
            () -> {
              while (!silent.isClosed()) {
                try {
                  Socket s = silent.accept();
                  synchronized (silentAccepted) {
                    silentAccepted.add(s);
                  }
                } catch (IOException e) {
                  return;
                }
              }
            });
    t.setDaemon(true);
    t.start();
    tollgate =
        resources.add(
            TollgateFixture.startIn(
                dir,
                String.format(
                    """
        access-log { path = "access.log" }
        io { transport = %s }
        timeouts { connect = 2s, idle = 60s, handshake = 30s }
        certificates { trusted-roots = "ca.pem" }
        routes = [
          { hosts = ["*.off.test"], mode = offload, pool = off,
            certificate { chain = "front.pem", key = "front.key" } }
          { hosts = ["*.re.test"], mode = reencrypt, pool = re,
            certificate { chain = "front.pem", key = "front.key" } }
          { hosts = ["*.stall.test"], mode = reencrypt, pool = stall,
            certificate { chain = "front.pem", key = "front.key" } }
        ]
        pools {
          off { servers = ["127.0.0.1:%d"], connect-attempts = 1, passive-ejection.failures = 0 }
          re { servers = ["127.0.0.1:%d"], connect-attempts = 1, passive-ejection.failures = 0,
               tls { ca = "ca.pem" } }
          stall { servers = ["127.0.0.1:%d"], connect-attempts = 1,
                  passive-ejection.failures = 0, tls { ca = "ca.pem" } }
        }
        """,
                    TransportUnderTest.of(info),
                    offBackend.port(),
                    reBackend.port(),
                    silent.getLocalPort())));
  }

  @AfterAll
  static void stopSilent() throws IOException {
    silent.close();
    synchronized (silentAccepted) {
      for (Socket s : silentAccepted) {
        s.close();
      }
    }
  }

  /**
   * Offload: the client sends 1 KiB, its close_notify (TCP left open), then keeps sending TLS
   * application-data records. The backend reads to its end (the relayed FIN) and stays silent with
   * its socket open. What does Tollgate do with the client's further bytes?
   */
  @Test
  void clientKeepsSendingAfterItsCloseNotifyInTheRelay() throws Exception {
    String sni = "h" + ids.incrementAndGet() + ".off.test";
    CountDownLatch done = new CountDownLatch(1);
    CompletableFuture<Received> atBackend =
        offBackend.next(
            peer -> {
              Received r = peer.readToEnd();
              done.await(120, TimeUnit.SECONDS);
              peer.close();
              return r;
            });
    long before = usedDirect();
    long accepted;
    long grown;
    try (ClosePeer client = connect(sni)) {
      client.write(new byte[1024]);
      client.writeAndEnd(new byte[0], false); // close_notify, TCP open
      accepted = pump(client.socket(), 512 * MIB, Duration.ofSeconds(6));
      grown = usedDirect() - before;
      client.reset();
    } finally {
      done.countDown();
    }
    assertThat(grown)
        .as(
            "direct memory one connection holds for bytes sent after its close_notify (%d MiB pushed)",
            accepted / MIB)
        .isLessThan(8 * MIB);
    Received backendSaw = atBackend.get(30, TimeUnit.SECONDS);
    assertThat(backendSaw.bytes())
        .as("what the client sent before its close_notify")
        .isEqualTo(1024);
    assertThat(backendSaw.end()).isEqualTo(ClosePeer.End.CLEAN);
    assertThat(accessLine(sni).get("bytes_from_client")).isEqualTo(1024.0);
  }

  /**
   * Reencrypt to a backend that never answers its handshake: the client's handshake with Tollgate
   * is done, PendingRelay waits for the backend, the client sends close_notify (TCP open) and keeps
   * sending records.
   */
  @Test
  void clientKeepsSendingAfterItsCloseNotifyWhileTheBackendIsPending() throws Exception {
    String sni = "h" + ids.incrementAndGet() + ".stall.test";
    long before = usedDirect();
    long accepted;
    long grown;
    try (ClosePeer client = connect(sni)) {
      Thread.sleep(300); // the handshake's last flight (tickets) is in; PendingRelay is connecting
      client.writeAndEnd(new byte[0], false); // close_notify alone, TCP open
      Thread.sleep(300); // read on its own, so no plaintext came with it
      accepted = pump(client.socket(), 512 * MIB, Duration.ofSeconds(6));
      grown = usedDirect() - before;
      client.reset();
    }
    assertThat(grown)
        .as(
            "direct memory held for bytes sent after close_notify while connecting (%d MiB pushed)",
            accepted / MIB)
        .isLessThan(8 * MIB);
  }

  /**
   * Reencrypt: the backend answers and ends TLS (close_notify, TCP open) while the client is still
   * uploading (a request body the server did not wait for) and reads the answer at a modest pace.
   * Every byte of the answer must reach the client, then close_notify. The second case reads one 16
   * KiB record every 50 ms (~320 KiB/s): what the sockets hold after Tollgate's FIN takes several
   * linger periods to drain, and a linger on a clock rather than on progress cut it short.
   */
  @ParameterizedTest(name = "{0} MiB, 64 KiB every {1} ms")
  @CsvSource({"16, 5", "4, 50"})
  void slowClientGetsTheWholeAnswerWhenItUploadsPastTheBackendsEnd(int mib, int pauseMillis)
      throws Exception {
    String sni = "h" + ids.incrementAndGet() + ".re.test";
    long answer = mib * MIB;
    CompletableFuture<Received> atBackend =
        reBackend.next(
            peer -> {
              Received first = peer.read(MIB);
              byte[] body = new byte[(int) answer];
              new DataPattern(DataPattern.SERVER_SEED).nextBytes(body, 0, body.length);
              peer.writeAndEnd(body, false);
              Received rest = peer.readToEnd();
              peer.close();
              return new Received(first.bytes() + rest.bytes(), first.sha256(), rest.end());
            });
    Received got;
    try (ClosePeer client = connect(sni)) {
      // Uploads for as long as the client reads (bounded): the upload must still be going when
      // Tollgate's end of the answer is out, which is when the reset used to come.
      java.util.concurrent.atomic.AtomicBoolean reading =
          new java.util.concurrent.atomic.AtomicBoolean(true);
      long uploadUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      Thread uploader =
          new Thread(
              () -> {
                byte[] chunk = new byte[64 * 1024];
                try {
                  while (reading.get() && System.nanoTime() < uploadUntil) {
                    client.write(chunk);
                    Thread.sleep(1); // steady, and leaves the reader its share of the client
                  }
                } catch (IOException | InterruptedException e) {
                  // reset or closed
                }
              });
      uploader.setDaemon(true);
      uploader.start();
      var digest = java.security.MessageDigest.getInstance("SHA-256");
      byte[] buf = new byte[64 * 1024];
      long total = 0;
      ClosePeer.End end = null;
      try {
        for (int n; (n = client.read(buf)) >= 0; ) {
          digest.update(buf, 0, n);
          total += n;
          Thread.sleep(pauseMillis); // a slow reader
        }
        end = ClosePeer.End.CLEAN;
      } catch (java.io.EOFException e) {
        end = ClosePeer.End.FIN_WITHOUT_CLOSE_NOTIFY;
      } catch (java.net.SocketException e) {
        end = ClosePeer.End.RESET;
      } finally {
        reading.set(false);
      }
      got = new Received(total, java.util.HexFormat.of().formatHex(digest.digest()), end);
    }
    Map<String, Object> line = accessLine(sni);
    assertThat(got.bytes()).as("answer bytes the client received; %s", line).isEqualTo(answer);
    assertThat(got.end()).isEqualTo(ClosePeer.End.CLEAN);
    assertThat(got.sha256()).isEqualTo(DataPattern.sha256Hex(DataPattern.SERVER_SEED, answer));
    assertThat(line.get("reason")).as("%s", line).isEqualTo("backend_closed");
  }

  /**
   * Writes TLS application-data records (random payload) to {@code socket} until {@code limit}
   * bytes or {@code within} elapsed; returns how many bytes the kernel took.
   */
  static long pump(Socket socket, long limit, Duration within) throws Exception {
    AtomicLong n = new AtomicLong();
    byte[] record = new byte[5 + 16384];
    record[0] = 0x17;
    record[1] = 0x03;
    record[2] = 0x03;
    record[3] = 0x40;
    record[4] = 0x00;
    new DataPattern(7).nextBytes(record, 5, 16384);
    byte[] chunk = new byte[record.length * 4];
    for (int i = 0; i < 4; i++) {
      System.arraycopy(record, 0, chunk, i * record.length, record.length);
    }
    Thread writer =
        new Thread(
            () -> {
              try {
                OutputStream out = socket.getOutputStream();
                while (n.get() < limit) {
                  out.write(chunk);
                  n.addAndGet(chunk.length);
                }
              } catch (IOException e) {
                // reset or closed
              }
            });
    writer.setDaemon(true);
    writer.start();
    writer.join(within.toMillis());
    return n.get();
  }

  static long usedDirect() {
    return ((ByteBufAllocatorMetricProvider) ByteBufAllocator.DEFAULT).metric().usedDirectMemory();
  }

  private static ClosePeer connect(String sni) throws IOException {
    Socket socket = new Socket();
    socket.connect(
        new InetSocketAddress(InetAddress.getLoopbackAddress(), tollgate.port()), 10_000);
    socket.setSoTimeout(30_000);
    socket.setTcpNoDelay(true);
    return ClosePeer.tlsClient(socket, ca.clientContext(), sni);
  }

  static Map<String, Object> accessLine(String sni) throws Exception {
    return AccessLogFile.lineFor(dir.resolve("access.log"), sni, Duration.ofSeconds(90));
  }
}
