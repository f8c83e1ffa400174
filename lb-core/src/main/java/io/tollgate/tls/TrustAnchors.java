package io.tollgate.tls;

import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import javax.security.auth.x500.X500Principal;

/**
 * The roots a certificate chain may end at without including the root itself: the JDK's default
 * trust store plus {@code certificates.trusted-roots}. Used only to tell a complete chain from one
 * missing its intermediate; what clients trust is up to them.
 */
final class TrustAnchors {
  private static volatile List<X509Certificate> jdkDefaults;

  /** By subject: 10,000 certificates are each looked up among the JDK's ~140 roots. */
  private final java.util.Map<X500Principal, List<X509Certificate>> bySubject =
      new java.util.HashMap<>();

  private final java.util.Set<X509Certificate> anchors;

  private TrustAnchors(List<X509Certificate> anchors, List<X509Certificate> extra) {
    this.extra = List.copyOf(extra);
    this.anchors = java.util.Set.copyOf(anchors);
    for (X509Certificate anchor : this.anchors) {
      bySubject
          .computeIfAbsent(anchor.getSubjectX500Principal(), s -> new ArrayList<>())
          .add(anchor);
    }
  }

  /** The last anchors built, with what they answered: a reload with the same roots reuses them. */
  private static volatile TrustAnchors last;

  /** Answers of {@link #issued}, per certificate: a reload asks again for 10,000 unchanged ones. */
  private final java.util.Map<X509Certificate, Boolean> issuedAnswers =
      new java.util.concurrent.ConcurrentHashMap<>();

  private final List<X509Certificate> extra;

  /** The JDK's default roots plus {@code extra}. */
  static TrustAnchors jdkDefaultsPlus(List<X509Certificate> extra) {
    TrustAnchors reused = last;
    if (reused != null && reused.extra.equals(extra) && reused.issuedAnswers.size() < 100_000) {
      return reused;
    }
    List<X509Certificate> all = new ArrayList<>(jdkDefaults());
    all.addAll(extra);
    TrustAnchors built = new TrustAnchors(all, extra);
    last = built;
    return built;
  }

  /** Whether {@code certificate} was signed by one of the anchors. */
  boolean issued(X509Certificate certificate) {
    return issuedAnswers.computeIfAbsent(certificate, this::issuedByAnchor);
  }

  private boolean issuedByAnchor(X509Certificate certificate) {
    for (X509Certificate anchor :
        bySubject.getOrDefault(certificate.getIssuerX500Principal(), List.of())) {
      if (CertificateChecks.issuedBy(certificate, anchor)) {
        return true;
      }
    }
    return false;
  }

  /** Whether {@code certificate} is itself one of the anchors. */
  boolean contains(X509Certificate certificate) {
    return anchors.contains(certificate);
  }

  /** The accepted issuers of the JDK's default trust manager (cacerts), read once. */
  static List<X509Certificate> jdkDefaults() {
    List<X509Certificate> roots = jdkDefaults;
    if (roots == null) {
      roots = List.copyOf(List.of(defaultTrustManager().getAcceptedIssuers()));
      jdkDefaults = roots;
    }
    return roots;
  }

  /**
   * The JDK's default X.509 trust manager ({@code cacerts} or {@code javax.net.ssl.trustStore}).
   */
  static X509TrustManager defaultTrustManager() {
    try {
      TrustManagerFactory factory =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      factory.init((KeyStore) null);
      for (TrustManager manager : factory.getTrustManagers()) {
        if (manager instanceof X509TrustManager x509) {
          return x509;
        }
      }
      throw new IllegalStateException("the JDK has no default X.509 trust manager");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot read the JDK's default trust store", e);
    }
  }
}
