package io.tollgate.pki;

/** The TLS versions the demo servers and test clients allow: 1.3 and 1.2, nothing older. */
public final class TlsProtocols {
  private TlsProtocols() {}

  /**
   * A fresh {@code ["TLSv1.3", "TLSv1.2"]} for {@code setEnabledProtocols}/{@code SSLParameters}.
   */
  public static String[] modern() {
    return new String[] {"TLSv1.3", "TLSv1.2"};
  }
}
