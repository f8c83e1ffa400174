package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.pki.CertificateAuthority;
import io.tollgate.pki.CertificateAuthority.KeyType;
import io.tollgate.testkit.TlsTestClient;
import io.tollgate.testkit.TlsTestServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Two tenants for the handshake admission tests: offload routes a.test and b.test, each with its
 * own certificate (a.pem, b.pem from one CA, ca.pem) and its own plain backend greeting "tenant a"
 * / "tenant b", and the raw and JDK clients those tests drive them with. Closing it closes every
 * raw socket it opened and both backends.
 */
final class TwoOffloadTenants implements AutoCloseable {
  final CertificateAuthority ca;
  final TlsTestServer backendA;
  final TlsTestServer backendB;

  /** Raw sockets opened by {@link #hello}, in order. */
  final List<Socket> sockets = new ArrayList<>();

  /** Writes the CA and both certificates into {@code dir} and starts both backends. */
  TwoOffloadTenants(Path dir, String caName) throws Exception {
    ca = CertificateAuthority.create(caName, KeyType.EC_P256);
    ca.writeCertificatePem(dir.resolve("ca.pem"));
    ca.issue(KeyType.EC_P256, "a.test").writePem(dir, "a");
    ca.issue(KeyType.EC_P256, "b.test").writePem(dir, "b");
    backendA = TlsTestServer.startPlain(TlsTestServer.greet("tenant a"));
    backendB = TlsTestServer.startPlain(TlsTestServer.greet("tenant b"));
  }

  /** The two routes and their pools, with these {@code limits} blocks' contents each. */
  String routes(String aLimits, String bLimits) {
    return String.format(
        """
        routes = [
          { hosts = ["a.test"], mode = offload, pool = a,
            certificate { chain = "a.pem", key = "a.key" }, limits { %s } }
          { hosts = ["b.test"], mode = offload, pool = b,
            certificate { chain = "b.pem", key = "b.key" }, limits { %s } }
        ]
        pools {
          a { servers = ["127.0.0.1:%d"] }
          b { servers = ["127.0.0.1:%d"] }
        }
        """,
        aLimits, bLimits, backendA.port(), backendB.port());
  }

  /** A full handshake with the JDK client and the backend's greeting through it. */
  String greeting(int port, String name) throws IOException {
    try (TlsTestClient.Connection c = TlsTestClient.connect(port, name, ca)) {
      return new BufferedReader(
              new InputStreamReader(c.socket().getInputStream(), StandardCharsets.US_ASCII))
          .readLine();
    }
  }

  /** A raw connection that sends a real ClientHello for {@code name} and reads nothing yet. */
  Socket hello(int port, String name) throws Exception {
    Socket s = new Socket(InetAddress.getLoopbackAddress(), port);
    sockets.add(s);
    s.setSoTimeout(20_000);
    s.getOutputStream().write(JdkClientHello.forName(name, List.of("http/1.1")));
    s.getOutputStream().flush();
    return s;
  }

  /**
   * A handshake for {@code name} that stays in progress: a real ClientHello, then the server's
   * first flight read, then nothing (the client's Finished never comes).
   */
  Socket holdHandshake(int port, String name) throws Exception {
    Socket s = hello(port, name);
    assertThat(s.getInputStream().read()).as("the server's first flight").isEqualTo(22);
    return s;
  }

  @Override
  public void close() throws IOException {
    for (Socket s : sockets) {
      s.close();
    }
    backendA.close();
    backendB.close();
  }
}
