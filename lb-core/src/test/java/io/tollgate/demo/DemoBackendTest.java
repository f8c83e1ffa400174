package io.tollgate.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tollgate.pki.CertificateAuthority;
import io.tollgate.pki.CertificateAuthority.KeyType;
import io.tollgate.pki.IssuedCertificate;
import io.tollgate.pki.TlsProtocols;
import io.tollgate.testkit.CommandLineTools;
import io.tollgate.testkit.CommandLineTools.ProcessResult;
import io.tollgate.testkit.TlsTestClient;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoBackendTest {
  private static CertificateAuthority ca;

  @BeforeAll
  static void authority() {
    ca = CertificateAuthority.create("Demo backend test CA", KeyType.EC_P256);
  }

  private static InetSocketAddress anyLoopbackPort() {
    return new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
  }

  @Test
  void answersRawGetWithNameProtocolAndSni() throws Exception {
    IssuedCertificate cert = ca.issue(KeyType.EC_P256, "alpha.demo.test");
    try (DemoBackend backend = new DemoBackend("alpha", anyLoopbackPort(), cert).start()) {
      assertThat(backend.port()).isPositive();
      String response;
      try (TlsTestClient.Connection connection =
          TlsTestClient.connect(backend.port(), "alpha.demo.test", ca)) {
        assertThat(connection.peerDnsNames()).containsExactly("alpha.demo.test");
        response = TlsTestClient.httpGet(connection.socket(), "alpha.demo.test", "/");
      }
      assertThat(response).startsWith("HTTP/1.1 200");
      assertThat(response).containsIgnoringCase("content-type: text/plain; charset=utf-8");
      assertThat(response)
          .endsWith("\r\n\r\nhello from alpha\ntls: TLSv1.3\nsni: alpha.demo.test\n");
      assertThat(backend.requests()).isEqualTo(1);
    }
  }

  @Test
  void reportsMissingSniAndRejectsOtherMethods() throws Exception {
    IssuedCertificate cert = ca.issue(KeyType.RSA_2048, "beta.demo.test");
    try (DemoBackend backend = new DemoBackend("beta", anyLoopbackPort(), cert).start()) {
      InetSocketAddress address = backend.address();
      try (TlsTestClient.Connection connection =
          TlsTestClient.connect(
              address, null, "beta.demo.test", ca.clientContext(), Duration.ofSeconds(10))) {
        assertThat(TlsTestClient.httpGet(connection.socket(), "beta.demo.test", "/"))
            .endsWith("hello from beta\ntls: TLSv1.3\nsni: (none)\n");
      }
      try (TlsTestClient.Connection connection =
          TlsTestClient.connect(backend.port(), "beta.demo.test", ca)) {
        connection
            .socket()
            .getOutputStream()
            .write(
                "POST / HTTP/1.1\r\nHost: beta\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
        String response =
            new String(TlsTestClient.readToEof(connection.socket()), StandardCharsets.UTF_8);
        assertThat(response).startsWith("HTTP/1.1 405");
      }
      assertThat(backend.requests()).isEqualTo(2);
    }
  }

  /** The documented plain-JDK client recipe: clientContext() plus clientParameters(name). */
  @Test
  void clientParametersSendSniAndVerifyHostName() throws Exception {
    IssuedCertificate cert = ca.issue(KeyType.EC_P256, "epsilon.demo.test");
    try (DemoBackend backend = new DemoBackend("epsilon", anyLoopbackPort(), cert).start()) {
      for (String name : new String[] {"epsilon.demo.test", "wrong.demo.test"}) {
        Socket plain = new Socket();
        plain.connect(backend.address(), 10_000);
        try (SSLSocket socket =
            (SSLSocket)
                ca.clientContext()
                    .getSocketFactory()
                    .createSocket(plain, name, backend.port(), true)) {
          socket.setSoTimeout(10_000);
          socket.setSSLParameters(CertificateAuthority.clientParameters(name));
          if (name.startsWith("wrong")) {
            assertThatThrownBy(socket::startHandshake).isInstanceOf(SSLHandshakeException.class);
          } else {
            assertThat(TlsTestClient.httpGet(socket, name, "/")).endsWith("sni: " + name + "\n");
          }
        }
      }
    }
  }

  /** The JDK HttpClient verifies the IP SAN when addressed by 127.0.0.1 (it sends no SNI then). */
  @Test
  void jdkHttpClientVerifiesIpSan() throws Exception {
    IssuedCertificate cert = ca.issue(KeyType.EC_P256, "gamma.demo.test", "127.0.0.1");
    try (DemoBackend backend = new DemoBackend("gamma", anyLoopbackPort(), cert).start()) {
      SSLParameters parameters = new SSLParameters();
      parameters.setProtocols(TlsProtocols.modern());
      HttpClient client =
          HttpClient.newBuilder()
              .sslContext(ca.clientContext())
              .sslParameters(parameters)
              .connectTimeout(Duration.ofSeconds(10))
              .build();
      HttpResponse<String> response =
          client.send(
              HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + backend.port() + "/"))
                  .timeout(Duration.ofSeconds(10))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.body()).startsWith("hello from gamma\ntls: TLSv1.3\n");
    }
  }

  /** What {@code scripts/tollgate demo} prints, minus Tollgate: two backends, curl --resolve. */
  @Test
  void curlWithResolveReachesEachBackendByName(@TempDir Path dir) {
    assumeTrue(CommandLineTools.which("curl").isPresent(), "curl not on PATH");
    Path caFile = ca.writeCertificatePem(dir.resolve("ca.pem"));
    try (DemoBackend a =
            new DemoBackend("a", anyLoopbackPort(), ca.issue(KeyType.EC_P256, "a.demo.test"))
                .start();
        DemoBackend b =
            new DemoBackend("b", anyLoopbackPort(), ca.issue(KeyType.RSA_2048, "b.demo.test"))
                .start()) {
      for (DemoBackend backend : new DemoBackend[] {a, b}) {
        String host = backend.name() + ".demo.test";
        ProcessResult result = curl(host, backend.port(), caFile);
        assertThat(result.ok()).as("%s", result).isTrue();
        assertThat(result.stdout()).startsWith("hello from " + backend.name() + "\n");
        assertThat(result.stdout()).contains("sni: " + host + "\n");
        assertThat(backend.requests()).isEqualTo(1);
      }
      // b's certificate is not valid for a's name: curl must refuse it.
      ProcessResult mismatch = curl("a.demo.test", b.port(), caFile);
      assertThat(mismatch.ok()).as("%s", mismatch).isFalse();
      assertThat(b.requests()).isEqualTo(1);
    }
  }

  @Test
  void closeIsIdempotentAndStopsServing() {
    IssuedCertificate cert = ca.issue(KeyType.EC_P256, "delta.demo.test");
    DemoBackend backend = new DemoBackend("delta", anyLoopbackPort(), cert).start();
    int port = backend.port();
    backend.close();
    backend.close();
    assertThatThrownBy(() -> TlsTestClient.connect(port, "delta.demo.test", ca))
        .isInstanceOf(UncheckedIOException.class);
    assertThatThrownBy(backend::start).isInstanceOf(IllegalStateException.class);
  }

  private static ProcessResult curl(String host, int port, Path caFile) {
    return CommandLineTools.run(
        Duration.ofSeconds(20),
        "curl",
        "-sS",
        "--max-time",
        "10",
        "--resolve",
        host + ":" + port + ":127.0.0.1",
        "--cacert",
        caFile.toString(),
        "https://" + host + ":" + port + "/");
  }
}
