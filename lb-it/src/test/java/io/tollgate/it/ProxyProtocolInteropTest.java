package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tollgate.pki.CertificateAuthority;
import io.tollgate.pki.CertificateAuthority.KeyType;
import io.tollgate.testkit.CommandLineTools;
import io.tollgate.testkit.FreePorts;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * PROXY protocol against implementations nobody here wrote: nginx as an origin behind Tollgate
 * ({@code listen ... proxy_protocol}, answering {@code $proxy_protocol_addr}), and HAProxy in front
 * of a Tollgate listener in required mode ({@code send-proxy-v2}). Skipped when the tool is not
 * installed ({@code .ci/run} installs both).
 */
@Timeout(90)
class ProxyProtocolInteropTest {
  @TempDir static Path dir;
  private static Process nginx;
  private static Process haproxy;
  private static TollgateFixture tollgate;
  private static ProxyOrigin origin;

  @AfterAll
  static void stop() throws Exception {
    for (Process p : new Process[] {nginx, haproxy}) {
      if (p != null) {
        p.destroy();
        if (!p.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)) {
          p.destroyForcibly();
        }
      }
    }
    if (tollgate != null) {
      tollgate.close();
    }
    if (origin != null) {
      origin.close();
    }
  }

  private static Optional<Path> tool(String name) {
    return CommandLineTools.which(name)
        .or(() -> Optional.of(Path.of("/usr/sbin", name)).filter(Files::isExecutable));
  }

  /** A port free a moment ago: nginx and HAProxy cannot report one they picked themselves. */
  private static void awaitListening(int port, Process p, Path log) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    while (System.nanoTime() < deadline) {
      assertThat(p.isAlive())
          .as("process exited: %s", Files.exists(log) ? Files.readString(log) : "(no log)")
          .isTrue();
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port), 200);
        return;
      } catch (IOException e) {
        Thread.sleep(50);
      }
    }
    throw new AssertionError("nothing listening on " + port);
  }

  private static CertificateAuthority ca(Path into) throws Exception {
    CertificateAuthority ca = CertificateAuthority.create("Tollgate interop CA", KeyType.EC_P256);
    ca.writeCertificatePem(into.resolve("ca.pem"));
    ca.issue(KeyType.EC_P256, "v1.test", "v2.test", "edge.test").writePem(into, "front");
    return ca;
  }

  private static SSLSocket tls(CertificateAuthority ca, InetSocketAddress to, String sni)
      throws Exception {
    Socket plain = new Socket();
    plain.connect(to, 10_000);
    plain.setSoTimeout(10_000);
    SSLSocket s =
        (SSLSocket)
            ca.clientContext().getSocketFactory().createSocket(plain, sni, to.getPort(), true);
    SSLParameters p = s.getSSLParameters();
    p.setServerNames(List.of(new SNIHostName(sni)));
    s.setSSLParameters(p);
    s.startHandshake();
    return s;
  }

  private static String httpBody(SSLSocket s, String host) throws IOException {
    OutputStream out = s.getOutputStream();
    out.write(
        ("GET / HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII));
    out.flush();
    InputStream in = s.getInputStream();
    String response = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
    assertThat(response).startsWith("HTTP/1.1 200");
    return response.substring(response.indexOf("\r\n\r\n") + 4);
  }

  @Test
  void nginxBehindTollgateSeesTheClientsAddressInV1AndV2() throws Exception {
    Optional<Path> bin = tool("nginx");
    assumeTrue(bin.isPresent(), "nginx is not installed");
    Path nd = Files.createDirectories(dir.resolve("nginx"));
    int port = FreePorts.next();
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
            listen 127.0.0.1:%2$d proxy_protocol;
            location / { return 200 "$proxy_protocol_addr $proxy_protocol_port\\n"; }
          }
        }
        """,
            nd, port));
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
    awaitListening(port, nginx, nd.resolve("error.log"));
    Path td = Files.createDirectories(dir.resolve("tollgate-nginx"));
    CertificateAuthority ca = ca(td);
    try (TollgateFixture t =
        TollgateFixture.startIn(
            td,
            """
        [ { name = main, address = "127.0.0.1:0" }, { name = six, address = "[::1]:0" } ]""",
            String.format(
                """
        certificates { trusted-roots = "ca.pem" }
        routes = [
          { hosts = ["v1.test"], mode = offload, pool = v1,
            certificate { chain = "front.pem", key = "front.key" } }
          { hosts = ["v2.test"], mode = offload, pool = v2,
            certificate { chain = "front.pem", key = "front.key" } }
        ]
        pools {
          v1 { servers = ["127.0.0.1:%1$d"], proxy-protocol = v1 }
          v2 { servers = ["127.0.0.1:%1$d"], proxy-protocol = v2,
               proxy-protocol-tlvs { crc32c = true } }
        }
        """,
                port))) {
      for (String name : List.of("v1.test", "v2.test")) {
        for (String listener : List.of("main", "six")) {
          try (SSLSocket s = tls(ca, t.address(listener), name)) {
            String body = httpBody(s, name).trim();
            String[] addrPort = body.split(" ");
            assertThat(InetAddress.getByName(addrPort[0]))
                .as(name + " via " + listener)
                .isEqualTo(s.getLocalAddress());
            assertThat(Integer.parseInt(addrPort[1])).isEqualTo(s.getLocalPort());
          }
        }
      }
    }
  }

  @Test
  void haproxySendProxyV2InFrontOfARequiredListener() throws Exception {
    Optional<Path> bin = tool("haproxy");
    assumeTrue(bin.isPresent(), "haproxy is not installed");
    Path hd = Files.createDirectories(dir.resolve("haproxy"));
    CertificateAuthority ca = ca(hd);
    origin = ProxyOrigin.start("behind-two-balancers", null);
    tollgate =
        TollgateFixture.startIn(
            hd,
            """
        [ { name = edge, address = "127.0.0.1:0",
            proxy-protocol { mode = required, trusted = ["127.0.0.1/32"] } } ]""",
            String.format(
                """
        certificates { trusted-roots = "ca.pem" }
        routes = [
          { hosts = ["edge.test"], mode = offload, pool = p,
            certificate { chain = "front.pem", key = "front.key" } }
        ]
        pools { p { servers = ["127.0.0.1:%d"], proxy-protocol = v2 } }
        """,
                origin.port()));
    int port = FreePorts.next();
    Files.writeString(
        hd.resolve("haproxy.cfg"),
        String.format(
            """
        global
          maxconn 64
        defaults
          mode tcp
          timeout connect 5s
          timeout client 30s
          timeout server 30s
        frontend fe
          bind 127.0.0.1:%d
          default_backend be
        backend be
          server tollgate 127.0.0.1:%d send-proxy-v2
        """,
            port, tollgate.address("edge").getPort()));
    haproxy =
        new ProcessBuilder(bin.get().toString(), "-db", "-f", hd.resolve("haproxy.cfg").toString())
            .redirectErrorStream(true)
            .redirectOutput(hd.resolve("haproxy.log").toFile())
            .start();
    awaitListening(port, haproxy, hd.resolve("haproxy.log"));
    origin.clear(); // awaitListening's probe went through HAProxy too

    try (SSLSocket s = tls(ca, new InetSocketAddress("127.0.0.1", port), "edge.test")) {
      assertThat(
              new java.io.BufferedReader(
                      new java.io.InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII))
                  .readLine())
          .isEqualTo("behind-two-balancers");
      ProxyOrigin.Seen seen = null;
      // The awaitListening probe may have left a header from a connection that failed later.
      for (int i = 0; i < 3; i++) {
        seen = origin.next();
        if (seen.sourcePort() == s.getLocalPort()) {
          break;
        }
      }
      // The client as HAProxy saw it, passed through Tollgate to the origin.
      assertThat(seen.sourceAddress()).isEqualTo("127.0.0.1");
      assertThat(seen.sourcePort()).isEqualTo(s.getLocalPort());
      assertThat(seen.destinationPort()).isEqualTo(port);
    }
  }
}
