package io.tollgate.tls;

import io.tollgate.config.ClientAuth;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * What a TLS session is bound to: one route (its host names) under one client-auth policy (mode and
 * the client CAs it trusts). A session made under one scope never resumes under another: the
 * scope's digest is the session-id context, which BoringSSL compares on every resumption (session
 * ID, TLS 1.2 ticket and TLS 1.3 PSK alike), and the route's ticket keys are derived from the
 * master keys with it ({@link TicketKeys#forScope}), so another route cannot even decrypt the
 * ticket. A reload that changes a route's hosts, client-auth mode or CA certificates changes its
 * scope and so ends its old sessions.
 *
 * <p>The digest depends only on the config and the CA certificates' contents (not on file paths,
 * PEM formatting or the order of hosts or CAs), so nodes sharing a ticket-key file agree on it and
 * resume each other's sessions on the same route.
 */
final class SessionScope {
  /** SSL_MAX_SID_CTX_LENGTH: a SHA-256 digest fits exactly. */
  static final int SESSION_ID_CONTEXT_SIZE = 32;

  private final byte[] digest;

  private SessionScope(byte[] digest) {
    this.digest = digest;
  }

  /**
   * The scope of a route serving {@code hosts} with {@code clientAuth}, whose CA file held {@code
   * clientCas} ({@code null} or empty without client auth).
   */
  static SessionScope of(
      List<String> hosts, Optional<ClientAuth> clientAuth, List<X509Certificate> clientCas) {
    MessageDigest sha256 = sha256();
    field(sha256, "tollgate session scope v1");
    List<String> sortedHosts = new ArrayList<>(hosts);
    sortedHosts.sort(null);
    field(sha256, "hosts " + sortedHosts.size());
    sortedHosts.forEach(host -> field(sha256, host));
    field(sha256, "client-auth " + clientAuth.map(a -> a.mode().configName()).orElse("none"));
    List<String> caDigests = new ArrayList<>();
    if (clientAuth.isPresent() && clientCas != null) {
      for (X509Certificate ca : clientCas) {
        try {
          caDigests.add(HexFormat.of().formatHex(sha256().digest(ca.getEncoded())));
        } catch (CertificateEncodingException e) {
          throw new IllegalStateException("a parsed CA certificate cannot be encoded", e);
        }
      }
    }
    caDigests.sort(null);
    field(sha256, "client-cas " + caDigests.size());
    caDigests.forEach(d -> field(sha256, d));
    return new SessionScope(sha256.digest());
  }

  /** The session-id context for {@code SSL_CTX_set_session_id_context} (32 bytes, a copy). */
  byte[] sessionIdContext() {
    return digest.clone();
  }

  /** Length-prefixed, so that no two different field lists hash the same bytes. */
  private static void field(MessageDigest sha256, String value) {
    byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
    sha256.update(
        new byte[] {
          (byte) (bytes.length >>> 24), (byte) (bytes.length >>> 16),
          (byte) (bytes.length >>> 8), (byte) bytes.length
        });
    sha256.update(bytes);
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SessionScope other && Arrays.equals(digest, other.digest);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(digest);
  }

  @Override
  public String toString() {
    return "SessionScope[" + HexFormat.of().formatHex(digest, 0, 8) + "]";
  }
}
