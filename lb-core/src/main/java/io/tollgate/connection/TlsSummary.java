package io.tollgate.connection;

import io.netty.handler.ssl.SslHandler;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * What a terminated TLS session negotiated, for the connection log, the access log and the PROXY
 * header.
 *
 * @param protocol e.g. {@code TLSv1.3}
 * @param cipher the cipher suite's IANA name
 * @param alpn the negotiated ALPN protocol, or null
 * @param clientSubject the verified client certificate's subject DN, or null
 * @param clientCertificate that certificate, or null
 * @param localCertificate the certificate Tollgate presented, or null (PROXY v2 SSL_SIG_ALG and
 *     SSL_KEY_ALG)
 */
public record TlsSummary(
    String protocol,
    String cipher,
    String alpn,
    String clientSubject,
    X509Certificate clientCertificate,
    X509Certificate localCertificate) {

  public TlsSummary(
      String protocol,
      String cipher,
      String alpn,
      String clientSubject,
      X509Certificate clientCertificate) {
    this(protocol, cipher, alpn, clientSubject, clientCertificate, null);
  }

  /** Reads a completed handshake's session. */
  public static TlsSummary of(SslHandler handler) {
    SSLEngine engine = handler.engine();
    SSLSession session = engine.getSession();
    X509Certificate peer = null;
    // A client sends a certificate only when asked for one. Without client auth, do not ask the
    // session: it answers "none" by throwing a new exception, some microseconds per handshake.
    if (engine.getNeedClientAuth() || engine.getWantClientAuth()) {
      try {
        Certificate[] certs = session.getPeerCertificates();
        if (certs.length > 0 && certs[0] instanceof X509Certificate x509) {
          peer = x509;
        }
      } catch (SSLPeerUnverifiedException e) {
        // client-auth optional, and the client sent no certificate
      }
    }
    Certificate[] local = session.getLocalCertificates();
    return new TlsSummary(
        session.getProtocol(),
        session.getCipherSuite(),
        handler.applicationProtocol(),
        peer == null ? null : peer.getSubjectX500Principal().getName(),
        peer,
        local != null && local.length > 0 && local[0] instanceof X509Certificate x ? x : null);
  }
}
