package io.tollgate.tls;

import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What a reload may take over from the material in force instead of building it again: loaded
 * certificates, keyed by their files' paths and contents, and server contexts, keyed by the route's
 * policy, its session scope and that certificate. A reload after one tenant changed so rebuilds
 * that tenant only, and every other route keeps its {@code SslContext} as it is, with its session
 * cache (a TLS 1.2 session id resumes across the reload) and its installed ticket keys.
 *
 * <p>Contexts are reused only while the settings every context is built with are the same ({@link
 * #settings}: provider, {@code tls} section, ticket-key source); a certificate is reused only when
 * its chain, key and OCSP files hold the same bytes (SHA-256) at the same paths. Whatever the new
 * material used is recorded in a new instance, which the reload after takes from, so a context
 * nobody uses any more is dropped with the material that last used it. Thread-safe: routes are
 * built in parallel.
 */
final class TlsReuse {
  /** Nothing to reuse: a first load, or {@code check}. */
  static final TlsReuse NONE = new TlsReuse("", Map.of(), Map.of(), Map.of(), Map.of(), null);

  /**
   * A certificate's files and what says their contents are the same: their digests (a String), or
   * their settled stamps (a list of {@code FileStamp}s, which never equals a String).
   */
  record CertificateKey(Path chain, Path key, Path ocsp, Object contents) {}

  /**
   * A route's context for one certificate: the scope is the route's (hosts, client CAs), the
   * certificate is compared by identity (a reused certificate is the same object).
   */
  record ContextKey(ServerPolicy policy, SessionScope scope, Identity certified) {}

  /** Identity equality for a record whose own equals would compare byte arrays by reference. */
  static final class Identity {
    private final Object value;

    Identity(Object value) {
      this.value = value;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Identity other && other.value == value;
    }

    @Override
    public int hashCode() {
      return System.identityHashCode(value);
    }
  }

  /**
   * A route's server TLS as built, with the certificates it was built around and the contexts it
   * holds: a reload that binds the very same route object (its tenant file did not change) and
   * loads the very same certificates (their files did not change) takes all of it over.
   */
  record RouteTls(
      CertificateChoice choice, ServerTls tls, Map<ContextKey, ServerCertificate> contexts) {}

  /**
   * A reused certificate whose checks found nothing under {@code anchors}: until {@code quietUntil}
   * (its chain's first expiry less the warning period) and from {@code quietFrom} (its chain's last
   * start of validity), checking it again under the same anchors finds nothing either, except its
   * key file's permissions, which are not part of its files' stamps.
   */
  record Quiet(Object anchors, java.time.Instant quietFrom, java.time.Instant quietUntil) {
    boolean holds(Object anchors, java.time.Instant now) {
      return anchors == this.anchors && !now.isBefore(quietFrom) && now.isBefore(quietUntil);
    }
  }

  private final String settings;
  private final Map<Identity, Quiet> quiet;
  private final Map<CertificateKey, CertifiedKey> certificates;
  private final Map<ContextKey, ServerCertificate> contexts;
  private final Map<Identity, RouteTls> routes;

  /** The ticket keys installed in {@link #contexts} when this was taken, or null. */
  private final TicketKeys installedKeys;

  private TlsReuse(
      String settings,
      Map<Identity, Quiet> quiet,
      Map<CertificateKey, CertifiedKey> certificates,
      Map<ContextKey, ServerCertificate> contexts,
      Map<Identity, RouteTls> routes,
      TicketKeys installedKeys) {
    this.settings = settings;
    this.quiet = quiet;
    this.certificates = certificates;
    this.contexts = contexts;
    this.routes = routes;
    this.installedKeys = installedKeys;
  }

  /** An empty record of what a build uses, under {@code settings}. */
  static TlsReuse recording(String settings) {
    return new TlsReuse(
        settings,
        new ConcurrentHashMap<>(),
        new ConcurrentHashMap<>(),
        new ConcurrentHashMap<>(),
        new ConcurrentHashMap<>(),
        null);
  }

  /** This record as the next build's source, with the ticket keys its contexts carry now. */
  TlsReuse withInstalledKeys(TicketKeys keys) {
    return new TlsReuse(settings, quiet, certificates, contexts, routes, keys);
  }

  /** The certificate loaded earlier from the same files with the same contents, or null. */
  CertifiedKey certificate(CertificateKey key) {
    return certificates.get(key);
  }

  void usedCertificate(CertificateKey key, CertifiedKey certified) {
    certificates.put(key, certified);
  }

  /** When checking {@code certified} again finds nothing, or null when unknown. */
  Quiet quiet(CertifiedKey certified) {
    return quiet.get(new Identity(certified));
  }

  void quiet(CertifiedKey certified, Quiet when) {
    quiet.put(new Identity(certified), when);
  }

  /** The context built earlier under the same settings for {@code key}, or null. */
  ServerCertificate context(String settings, ContextKey key) {
    return this.settings.equals(settings) ? contexts.get(key) : null;
  }

  void usedContext(ContextKey key, ServerCertificate context) {
    contexts.put(key, context);
  }

  /** The TLS built for this very route object under the same settings, or null. */
  RouteTls route(String settings, Object route) {
    return this.settings.equals(settings) ? routes.get(new Identity(route)) : null;
  }

  void usedRoute(Object route, RouteTls tls) {
    routes.put(new Identity(route), tls);
  }

  /** The ticket keys the reusable contexts carry (null: none installed). */
  TicketKeys installedKeys() {
    return installedKeys;
  }

  /** How many contexts this record holds (tests). */
  int contextCount() {
    return contexts.size();
  }

  /** Hex SHA-256 of each content, in order, null as "-". */
  static String digests(byte[]... contents) {
    StringBuilder out = new StringBuilder();
    for (byte[] content : contents) {
      if (!out.isEmpty()) {
        out.append('/');
      }
      out.append(content == null ? "-" : HexFormat.of().formatHex(sha256().digest(content)));
    }
    return out.toString();
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }
}
