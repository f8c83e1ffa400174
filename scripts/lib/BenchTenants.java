import io.tollgate.pki.CertificateAuthority;
import io.tollgate.pki.CertificateAuthority.KeyType;
import io.tollgate.pki.IssuedCertificate;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import java.util.List;

/**
 * Helper of scripts/bench-tenants.sh (run as a single-file program with the Tollgate jar on the
 * class path). Modes:
 *
 * <pre>
 *   gen DIR N TLS_PORT PLAIN_PORT   write DIR/tollgate.parts (routes of tenant files) and
 *                                   DIR/tenants/tNNNNN.conf: even tenants passthrough to
 *                                   TLS_PORT, odd ones offload to PLAIN_PORT, each with its own
 *                                   ECDSA P-256 certificate in DIR/certs; every 10th tenant
 *                                   also has a wildcard host (*.tN.bench.test)
 *   tenant DIR I TLS_PORT PLAIN_PORT  write one more tenant (with its certificate)
 *   serve TLS_PORT PLAIN_PORT       TLS echo backend (for passthrough) and plain echo backend
 *   connect HOST PORT SNI COUNT     COUNT sequential TLS connections (handshake, 1 byte echoed,
 *                                   close); prints the wall time per connection in microseconds
 * </pre>
 */
public class BenchTenants {
  public static void main(String[] args) throws Exception {
    switch (args[0]) {
      case "gen" -> gen(Path.of(args[1]), Integer.parseInt(args[2]), args[3], args[4]);
      case "tenant" -> {
        CertificateAuthority ca = CertificateAuthority.create("bench CA", KeyType.EC_P256);
        tenant(ca, Path.of(args[1]), Integer.parseInt(args[2]), args[3], args[4]);
      }
      case "serve" -> serve(Integer.parseInt(args[1]), Integer.parseInt(args[2]));
      case "connect" ->
          connect(args[1], Integer.parseInt(args[2]), args[3], Integer.parseInt(args[4]));
      default -> throw new IllegalArgumentException(args[0]);
    }
  }

  static String name(int i) {
    return String.format("t%05d", i);
  }

  static void gen(Path dir, int n, String tlsPort, String plainPort) throws Exception {
    CertificateAuthority ca = CertificateAuthority.create("bench CA", KeyType.EC_P256);
    Files.createDirectories(dir.resolve("tenants"));
    // trusted-roots: without it each certificate is "chain incomplete", 5,000 warnings.
    ca.writeCertificatePem(dir.resolve("ca.pem"));
    for (int i = 0; i < n; i++) {
      tenant(ca, dir, i, tlsPort, plainPort);
    }
  }

  static void tenant(CertificateAuthority ca, Path dir, int i, String tlsPort, String plainPort)
      throws Exception {
    String t = name(i);
    String host = t + ".bench.test";
    boolean wildcard = i % 10 == 0;
    String hosts = "\"" + host + "\"" + (wildcard ? ", \"*." + host + "\"" : "");
    StringBuilder conf = new StringBuilder();
    if (i % 2 == 0) {
      conf.append("routes = [ { hosts = [").append(hosts).append("], pool = ").append(t);
      conf.append(" } ]\n");
      conf.append("pools { ").append(t).append(" { servers = [\"127.0.0.1:").append(tlsPort);
    } else {
      IssuedCertificate cert =
          wildcard ? ca.issue(KeyType.EC_P256, host, "*." + host) : ca.issue(KeyType.EC_P256, host);
      // The key as OpenSSL, certbot and ACME clients write it (with its public key).
      cert.writeOpenSslKey(cert.writePem(dir.resolve("certs"), t).privateKey());
      conf.append("routes = [ { hosts = [").append(hosts).append("], mode = offload, pool = ");
      conf.append(t).append(", certificate { chain = \"certs/").append(t);
      conf.append(".pem\", key = \"certs/").append(t).append(".key\" } } ]\n");
      conf.append("pools { ").append(t).append(" { servers = [\"127.0.0.1:").append(plainPort);
    }
    conf.append("\"] } }\n");
    Files.writeString(dir.resolve("tenants").resolve(t + ".conf"), conf);
  }

  static void serve(int tlsPort, int plainPort) throws Exception {
    CertificateAuthority ca = CertificateAuthority.create("bench backend CA", KeyType.EC_P256);
    IssuedCertificate cert = ca.issue(KeyType.EC_P256, "*.bench.test", "backend.bench.test");
    SSLServerSocket tls =
        (SSLServerSocket)
            cert.serverContext()
                .getServerSocketFactory()
                .createServerSocket(tlsPort, 512, java.net.InetAddress.getLoopbackAddress());
    ServerSocket plain = new ServerSocket(plainPort, 512, java.net.InetAddress.getLoopbackAddress());
    for (ServerSocket s : List.of(tls, plain)) {
      Thread accept =
          new Thread(
              () -> {
                while (true) {
                  try {
                    Socket c = s.accept();
                    new Thread(() -> echo(c)).start();
                  } catch (Exception e) {
                    return;
                  }
                }
              });
      accept.start();
    }
    Thread.sleep(Long.MAX_VALUE);
  }

  static void echo(Socket c) {
    try (c) {
      c.setSoTimeout(30_000);
      InputStream in = c.getInputStream();
      OutputStream out = c.getOutputStream();
      byte[] buf = new byte[4096];
      for (int r; (r = in.read(buf)) > 0; ) {
        out.write(buf, 0, r);
        out.flush();
      }
    } catch (Exception e) {
      // the client went away
    }
  }

  static void connect(String host, int port, String sni, int count) throws Exception {
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, new TrustManager[] {new TrustAll()}, null);
    long start = System.nanoTime();
    for (int i = 0; i < count; i++) {
      try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket()) {
        s.connect(new InetSocketAddress(host, port), 5000);
        s.setSoTimeout(5000);
        SSLParameters p = s.getSSLParameters();
        p.setServerNames(List.of(new SNIHostName(sni)));
        s.setSSLParameters(p);
        s.getOutputStream().write('x');
        s.getOutputStream().flush();
        if (s.getInputStream().read() != 'x') {
          throw new IllegalStateException("no echo from " + sni);
        }
      }
    }
    System.out.println((System.nanoTime() - start) / 1000 / count);
  }

  /** The bench measures routing, not trust: backends and Tollgate use throwaway CAs. */
  static final class TrustAll implements X509TrustManager {
    public void checkClientTrusted(X509Certificate[] c, String a) {}

    public void checkServerTrusted(X509Certificate[] c, String a) {}

    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
