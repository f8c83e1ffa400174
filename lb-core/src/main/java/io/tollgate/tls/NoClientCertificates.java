package io.tollgate.tls;

import io.netty.handler.ssl.util.SimpleTrustManagerFactory;
import java.net.Socket;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import javax.net.ssl.ManagerFactoryParameters;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The trust manager of a server context that asks for no client certificate. Given none, Netty's
 * OpenSSL server context takes the JDK's default one and writes every root of {@code cacerts}
 * (~140) into the context as the CAs it would accept client certificates from: PEM-encoded per
 * context (most of the CPU of loading 5,000 offload routes) and held by every context. This one
 * accepts no issuer and trusts no client, which is what a route without {@code client-auth} means.
 */
final class NoClientCertificates extends X509ExtendedTrustManager {
  private static final X509Certificate[] NONE = new X509Certificate[0];

  static final TrustManagerFactory FACTORY =
      new SimpleTrustManagerFactory() {
        private final TrustManager[] managers = {new NoClientCertificates()};

        @Override
        protected void engineInit(KeyStore keyStore) {}

        @Override
        protected void engineInit(ManagerFactoryParameters parameters) {}

        @Override
        protected TrustManager[] engineGetTrustManagers() {
          return managers.clone();
        }
      };

  private NoClientCertificates() {}

  private static CertificateException refused() {
    return new CertificateException("this route does not accept client certificates");
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    throw refused();
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    throw refused();
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    throw refused();
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    throw refused();
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    throw refused();
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    throw refused();
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return NONE;
  }
}
