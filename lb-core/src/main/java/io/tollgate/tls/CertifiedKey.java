package io.tollgate.tls;

import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;

/**
 * A private key and its certificate chain, read from PEM files and checked ({@link
 * CertificateChecks}).
 *
 * @param chainFile where the chain was read from
 * @param keyFile where the key was read from (may equal {@code chainFile})
 * @param chain leaf first, then intermediates
 * @param key the leaf's private key
 * @param kind ECDSA or RSA
 * @param ocspResponse DER OCSP response to staple, or {@code null}
 * @param ocspFile where {@code ocspResponse} was read from, or {@code null}
 */
public record CertifiedKey(
    Path chainFile,
    Path keyFile,
    List<X509Certificate> chain,
    PrivateKey key,
    KeyKind kind,
    byte[] ocspResponse,
    Path ocspFile) {

  public CertifiedKey {
    Objects.requireNonNull(chainFile, "chainFile");
    Objects.requireNonNull(keyFile, "keyFile");
    chain = List.copyOf(chain);
    if (chain.isEmpty()) {
      throw new IllegalArgumentException("empty chain");
    }
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(kind, "kind");
  }

  /** The leaf certificate. */
  public X509Certificate leaf() {
    return chain.get(0);
  }

  /**
   * The DNS names the leaf is valid for, lower case without a trailing dot: its SAN {@code dNSName}
   * entries (wildcards such as {@code *.example.com} included), or its subject common name when it
   * has no DNS SAN at all (old certificates).
   */
  public List<String> dnsNames() {
    return dnsNames(leaf());
  }

  /**
   * When the chain as served stops being valid: the earliest notAfter of its certificates (an
   * intermediate can lapse before the leaf).
   */
  public Instant notAfter() {
    return chain.stream()
        .map(c -> c.getNotAfter().toInstant())
        .min(Instant::compareTo)
        .orElseThrow();
  }

  /** Whether every certificate of the chain is within its validity period at {@code now}. */
  public boolean validAt(Instant now) {
    return chain.stream()
        .allMatch(
            c ->
                !now.isBefore(c.getNotBefore().toInstant())
                    && !now.isAfter(c.getNotAfter().toInstant()));
  }

  /** The leaf's subject, for messages. */
  public String subject() {
    return leaf().getSubjectX500Principal().getName();
  }

  /** See {@link #dnsNames()}. */
  static List<String> dnsNames(X509Certificate certificate) {
    List<String> names = new ArrayList<>();
    try {
      Collection<List<?>> entries = certificate.getSubjectAlternativeNames();
      if (entries != null) {
        for (List<?> entry : entries) {
          if (Integer.valueOf(2).equals(entry.get(0)) && entry.get(1) instanceof String name) {
            names.add(normalise(name));
          }
        }
      }
    } catch (CertificateParsingException e) {
      // Unreadable SAN extension: fall back to the common name like a certificate without SANs.
    }
    if (names.isEmpty()) {
      String cn = commonName(certificate);
      if (cn != null && !cn.isBlank()) {
        names.add(normalise(cn));
      }
    }
    return names.stream().distinct().toList();
  }

  private static String commonName(X509Certificate certificate) {
    try {
      LdapName name = new LdapName(certificate.getSubjectX500Principal().getName());
      for (Rdn rdn : name.getRdns()) {
        if (rdn.getType().equalsIgnoreCase("CN")) {
          return String.valueOf(rdn.getValue());
        }
      }
    } catch (InvalidNameException e) {
      return null;
    }
    return null;
  }

  private static String normalise(String name) {
    String s = name.trim().toLowerCase(Locale.ROOT);
    return s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
  }

  @Override
  public boolean equals(Object o) {
    return this
        == o; // identity: one per file pair per load; arrays inside make value equality moot
  }

  @Override
  public int hashCode() {
    return System.identityHashCode(this);
  }

  @Override
  public String toString() {
    return "CertifiedKey[" + kind + " " + subject() + " from " + chainFile + "]";
  }
}
