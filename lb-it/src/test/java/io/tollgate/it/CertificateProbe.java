package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.pki.CertificateAuthority;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLSocket;

/**
 * A JDK TLS client of a Tollgate listener that trusts one CA: which certificate a name was served
 * with, and what the backend behind it greets with.
 */
record CertificateProbe(CertificateAuthority ca, int port) {
  /** The first bytes the backend behind {@code name} sends, as text. */
  String greeting(String name) throws Exception {
    try (SSLSocket s = connect(name)) {
      return greetingOn(s);
    }
  }

  /**
   * The DNS names of the certificate Tollgate presented for {@code name}, comma-separated, after
   * checking the backend behind it greets with {@code greeting}.
   */
  String servedName(String name, String greeting) throws Exception {
    try (SSLSocket s = connect(name)) {
      X509Certificate leaf = (X509Certificate) s.getSession().getPeerCertificates()[0];
      List<String> names = new ArrayList<>();
      for (List<?> san : leaf.getSubjectAlternativeNames()) {
        if (Integer.valueOf(2).equals(san.get(0))) {
          names.add((String) san.get(1));
        }
      }
      assertThat(greetingOn(s)).isEqualTo(greeting);
      return String.join(",", names);
    }
  }

  private static String greetingOn(SSLSocket s) throws Exception {
    byte[] buf = new byte[64];
    int n = s.getInputStream().read(buf);
    return new String(buf, 0, Math.max(n, 0), StandardCharsets.US_ASCII).trim();
  }

  /** A handshake with {@code name} as SNI, done. */
  SSLSocket connect(String name) throws Exception {
    SSLSocket s = (SSLSocket) ca.clientContext().getSocketFactory().createSocket("127.0.0.1", port);
    var params = s.getSSLParameters();
    params.setServerNames(List.of(new SNIHostName(name)));
    s.setSSLParameters(params);
    s.setSoTimeout(20_000);
    s.startHandshake();
    return s;
  }
}
