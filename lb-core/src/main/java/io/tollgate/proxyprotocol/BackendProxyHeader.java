package io.tollgate.proxyprotocol;

import static io.tollgate.proxyprotocol.ProxyHeaderEncoder.PP2_CLIENT_CERT_CONN;
import static io.tollgate.proxyprotocol.ProxyHeaderEncoder.PP2_CLIENT_CERT_SESS;
import static io.tollgate.proxyprotocol.ProxyHeaderEncoder.PP2_CLIENT_SSL;

import io.netty.handler.ssl.CipherSuiteConverter;
import io.tollgate.config.BackendProxyProtocol;
import io.tollgate.connection.Connection;
import io.tollgate.connection.TlsSummary;
import io.tollgate.proxyprotocol.ProxyHeaderEncoder.Tlv;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.security.interfaces.DSAPublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;

/**
 * The PROXY header for one backend connection of a pool, from what the {@link Connection} knows:
 * the client (the upstream header's source when one was read), the address it connected to, its
 * SNI, and for terminated TLS the negotiated ALPN and session ({@code PP2_TYPE_SSL}).
 */
public final class BackendProxyHeader {
  /**
   * {@code verify} when no client certificate was verified. The spec: "zero if the client presented
   * a certificate and it was successfully verified, and non-zero otherwise".
   */
  static final int NOT_VERIFIED = 1;

  /** OpenSSL short names of the usual certificate signature algorithms, by OID. */
  private static final Map<String, String> SIG_ALG_NAMES =
      Map.of(
          "1.2.840.113549.1.1.5", "RSA-SHA1",
          "1.2.840.113549.1.1.11", "RSA-SHA256",
          "1.2.840.113549.1.1.12", "RSA-SHA384",
          "1.2.840.113549.1.1.13", "RSA-SHA512",
          "1.2.840.113549.1.1.10", "RSASSA-PSS",
          "1.2.840.10045.4.3.2", "ecdsa-with-SHA256",
          "1.2.840.10045.4.3.3", "ecdsa-with-SHA384",
          "1.2.840.10045.4.3.4", "ecdsa-with-SHA512",
          "1.3.101.112", "ED25519",
          "1.3.101.113", "ED448");

  private BackendProxyHeader() {}

  /**
   * The header bytes, or null when {@code config} is off.
   *
   * @param destination where the client connected: the upstream header's destination, else the
   *     client channel's local address
   */
  public static byte[] of(BackendProxyProtocol config, Connection conn, SocketAddress destination) {
    switch (config.version()) {
      case OFF:
        return null;
      case V1:
        return ProxyHeaderEncoder.v1(conn.client(), destination);
      default:
        return ProxyHeaderEncoder.v2(
            conn.client(), destination, tlvs(config, conn), config.crc32c());
    }
  }

  /** The enabled TLVs that apply, in ascending type order. */
  static List<Tlv> tlvs(BackendProxyProtocol config, Connection conn) {
    List<Tlv> out = new ArrayList<>(4);
    TlsSummary tls = conn.tls();
    if (config.alpn() && tls != null && tls.alpn() != null && !tls.alpn().isEmpty()) {
      out.add(
          new Tlv(
              ProxyHeaderEncoder.PP2_TYPE_ALPN, tls.alpn().getBytes(StandardCharsets.US_ASCII)));
    }
    if (config.authority() && conn.sni() != null) {
      out.add(Tlv.ascii(ProxyHeaderEncoder.PP2_TYPE_AUTHORITY, conn.sni()));
    }
    if (config.uniqueId()) {
      byte[] id = conn.id().getBytes(StandardCharsets.US_ASCII);
      if (id.length <= ProxyHeaderEncoder.MAX_UNIQUE_ID) {
        out.add(new Tlv(ProxyHeaderEncoder.PP2_TYPE_UNIQUE_ID, id));
      }
    }
    if (config.ssl() && tls != null) {
      out.add(ssl(tls));
    }
    return out;
  }

  /**
   * {@code PP2_TYPE_SSL} for a TLS session Tollgate terminated: PP2_CLIENT_SSL, plus
   * PP2_CLIENT_CERT_CONN and PP2_CLIENT_CERT_SESS with verify 0 when a client certificate was
   * verified (the session's certificate; a resumed session cannot be told apart here); sub-TLVs
   * SSL_VERSION, SSL_CN (with a client certificate), SSL_CIPHER (OpenSSL's name, as the spec's
   * example), SSL_SIG_ALG and SSL_KEY_ALG of the certificate Tollgate presented.
   */
  static Tlv ssl(TlsSummary tls) {
    int client = PP2_CLIENT_SSL;
    int verify = NOT_VERIFIED;
    List<Tlv> sub = new ArrayList<>(5);
    if (tls.protocol() != null) {
      sub.add(Tlv.ascii(ProxyHeaderEncoder.PP2_SUBTYPE_SSL_VERSION, tls.protocol()));
    }
    X509Certificate peer = tls.clientCertificate();
    if (peer != null) {
      client |= PP2_CLIENT_CERT_CONN | PP2_CLIENT_CERT_SESS;
      verify = 0;
      String cn = commonName(peer);
      if (cn != null) {
        sub.add(
            new Tlv(ProxyHeaderEncoder.PP2_SUBTYPE_SSL_CN, cn.getBytes(StandardCharsets.UTF_8)));
      }
    }
    if (tls.cipher() != null) {
      sub.add(Tlv.ascii(ProxyHeaderEncoder.PP2_SUBTYPE_SSL_CIPHER, openSslCipher(tls.cipher())));
    }
    X509Certificate local = tls.localCertificate();
    if (local != null) {
      sub.add(Tlv.ascii(ProxyHeaderEncoder.PP2_SUBTYPE_SSL_SIG_ALG, signatureAlgorithm(local)));
      String key = keyAlgorithm(local.getPublicKey());
      if (key != null) {
        sub.add(Tlv.ascii(ProxyHeaderEncoder.PP2_SUBTYPE_SSL_KEY_ALG, key));
      }
    }
    return ProxyHeaderEncoder.ssl(client, verify, sub);
  }

  /**
   * OpenSSL's name of an IANA/Java cipher suite name, e.g. {@code ECDHE-RSA-AES128-GCM-SHA256}; TLS
   * 1.3 suites (no "_WITH_") have the same name in both.
   */
  static String openSslCipher(String javaName) {
    if (!javaName.contains("_WITH_")) {
      return javaName;
    }
    String name = CipherSuiteConverter.toOpenSsl(javaName, false);
    return name != null ? name : javaName;
  }

  /** OpenSSL's short name of the signature algorithm, e.g. {@code ecdsa-with-SHA256}. */
  static String signatureAlgorithm(X509Certificate cert) {
    return SIG_ALG_NAMES.getOrDefault(cert.getSigAlgOID(), cert.getSigAlgName());
  }

  /** Algorithm and size as HAProxy writes them: {@code RSA2048}, {@code EC256}; or null. */
  static String keyAlgorithm(PublicKey key) {
    if (key instanceof RSAPublicKey rsa) {
      return "RSA" + rsa.getModulus().bitLength();
    }
    if (key instanceof ECPublicKey ec) {
      return "EC" + ec.getParams().getCurve().getField().getFieldSize();
    }
    if (key instanceof DSAPublicKey dsa) {
      return "DSA" + dsa.getParams().getP().bitLength();
    }
    return key == null ? null : key.getAlgorithm();
  }

  /** The (last) CN of the subject, or null. */
  static String commonName(X509Certificate cert) {
    try {
      LdapName name = new LdapName(cert.getSubjectX500Principal().getName());
      String cn = null;
      for (Rdn rdn : name.getRdns()) {
        if (rdn.getType().equalsIgnoreCase("CN")) {
          cn = String.valueOf(rdn.getValue());
        }
      }
      return cn;
    } catch (InvalidNameException e) {
      return null;
    }
  }
}
