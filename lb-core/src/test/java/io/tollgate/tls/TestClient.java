package io.tollgate.tls;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/** A JDK {@link SSLSocket} client with exactly the offer a test wants. */
final class TestClient {
  private final int port;
  private String sni;
  private List<String> protocols = List.of("TLSv1.3", "TLSv1.2");
  private List<String> ciphers;
  private List<String> alpn;
  private SSLContext context;

  private TestClient(int port) {
    this.port = port;
    this.context = context(null, TlsFixtures.ROOT.trustManagers());
  }

  static TestClient to(int port) {
    return new TestClient(port);
  }

  /** SNI to send and name to verify (HTTPS endpoint identification). */
  TestClient sni(String name) {
    this.sni = name;
    return this;
  }

  TestClient protocols(String... protocols) {
    this.protocols = List.of(protocols);
    return this;
  }

  TestClient ciphers(String... ciphers) {
    this.ciphers = List.of(ciphers);
    return this;
  }

  TestClient alpn(String... protocols) {
    this.alpn = List.of(protocols);
    return this;
  }

  /** Trust and key managers; reusing one context lets the JDK resume sessions. */
  TestClient context(SSLContext context) {
    this.context = context;
    return this;
  }

  static SSLContext context(KeyManagerFactory keys, TrustManagerFactory trust) {
    try {
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(keys == null ? null : keys.getKeyManagers(), trust.getTrustManagers(), null);
      return context;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Connects and completes the handshake; the caller closes the socket. */
  SSLSocket connect() throws IOException {
    Socket plain = new Socket();
    try {
      plain.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5_000);
      plain.setSoTimeout(5_000);
      String host = sni != null ? sni : "127.0.0.1";
      SSLSocket socket =
          (SSLSocket) context.getSocketFactory().createSocket(plain, host, port, true);
      SSLParameters parameters = socket.getSSLParameters();
      parameters.setProtocols(protocols.toArray(new String[0]));
      if (ciphers != null) {
        parameters.setCipherSuites(ciphers.toArray(new String[0]));
      }
      if (alpn != null) {
        parameters.setApplicationProtocols(alpn.toArray(new String[0]));
      }
      parameters.setServerNames(sni == null ? List.of() : List.of(new SNIHostName(sni)));
      parameters.setEndpointIdentificationAlgorithm(sni == null ? null : "HTTPS");
      socket.setSSLParameters(parameters);
      socket.startHandshake();
      return socket;
    } catch (IOException | RuntimeException e) {
      plain.close();
      throw e;
    }
  }

  static X509Certificate peer(SSLSocket socket) throws IOException {
    return (X509Certificate) socket.getSession().getPeerCertificates()[0];
  }
}
