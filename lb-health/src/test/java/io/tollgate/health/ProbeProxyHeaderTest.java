package io.tollgate.health;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.tollgate.config.BackendProxyProtocol.Version;
import io.tollgate.config.HealthCheckConfig;
import io.tollgate.config.HealthCheckConfig.Type;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Checks of a pool with proxy-protocol send a header first, as HAProxy's check-send-proxy. */
@Timeout(30)
class ProbeProxyHeaderTest {
  private static EventLoopGroup group;

  @BeforeAll
  static void start() {
    group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  }

  @AfterAll
  static void stop() {
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  @Test
  void v2PoolsSendALocalHeaderBeforeTheHttpRequest() throws Exception {
    String received = probeAndCapture(Type.HTTP, Version.V2);
    assertThat(received)
        .startsWith(
            "0d0a0d0a000d0a515549540a20000000"
                + HexFormat.of()
                    .formatHex("GET / HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII)));
  }

  @Test
  void v1PoolsSendProxyUnknownBeforeTheHttpRequest() throws Exception {
    String received = probeAndCapture(Type.HTTP, Version.V1);
    assertThat(received)
        .startsWith(
            HexFormat.of()
                .formatHex(
                    "PROXY UNKNOWN\r\nGET / HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII)));
  }

  @Test
  void tcpChecksSendTheHeaderToo() throws Exception {
    assertThat(probeAndCapture(Type.TCP, Version.V2)).isEqualTo("0d0a0d0a000d0a515549540a20000000");
  }

  @Test
  void poolsWithoutProxyProtocolSendNoHeader() throws Exception {
    assertThat(probeAndCapture(Type.HTTP, Version.OFF))
        .startsWith(
            HexFormat.of().formatHex("GET / HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII)));
  }

  /** Runs one probe against a socket that records what it read (hex) and answers 200. */
  private static String probeAndCapture(Type type, Version version) throws Exception {
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      CompletableFuture<String> captured =
          CompletableFuture.supplyAsync(
              () -> {
                try (Socket s = server.accept()) {
                  s.setSoTimeout(5000);
                  InputStream in = s.getInputStream();
                  byte[] buf = new byte[4096];
                  int n = 0;
                  int want = type == Type.TCP ? 16 : 18;
                  while (n < want) {
                    int r = in.read(buf, n, buf.length - n);
                    if (r < 0) {
                      break;
                    }
                    n += r;
                    String text = new String(buf, 0, n, StandardCharsets.ISO_8859_1);
                    // Not just "\r\n\r\n": the v2 signature starts with those very bytes.
                    if (type != Type.TCP && text.contains("GET ") && text.endsWith("\r\n\r\n")) {
                      break;
                    }
                  }
                  if (type != Type.TCP) {
                    OutputStream out = s.getOutputStream();
                    out.write(
                        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                            .getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                  }
                  return HexFormat.of().formatHex(buf, 0, n);
                } catch (Exception e) {
                  throw new RuntimeException(e);
                }
              });
      HealthCheckConfig defaults = HealthCheckConfig.defaults(type);
      // What is checked is the bytes, not the speed: a loaded CI machine can take longer than the
      // default 1 s to run the capturing thread.
      HealthCheckConfig check =
          defaults.withTimings(
              defaults.interval(), Duration.ofSeconds(10), defaults.rise(), defaults.fall());
      ServerProbe probe =
          new ServerProbe(
                  check,
                  new InetSocketAddress(server.getInetAddress(), server.getLocalPort()),
                  null,
                  null,
                  null,
                  "localhost")
              .withProxyHeader(ProbeProxyHeader.of(version));
      Probe.Result result = probe.run(group.next()).get(10, TimeUnit.SECONDS);
      assertThat(result.ok()).as(result.detail()).isTrue();
      return captured.get(10, TimeUnit.SECONDS);
    }
  }
}
