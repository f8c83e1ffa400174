package io.tollgate.tls;

import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
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
  static final TlsReuse NONE =
      new TlsReuse("", Map.of(), Map.of(), Map.of(), Map.of(), Map.of(), null);

  /**
   * A certificate's files and what says their contents are the same: their digests (a String), or
   * their settled stamps (a list of {@code FileStamp}s, which never equals a String).
   */
  static final class CertificateKey {
    private final Path chain;
    private final Path key;
    private final Path ocsp;
    private final Object contents;

    // Computed once: every certificate taken over is put in the next record by this key.
    private final int hash;

    CertificateKey(Path chain, Path key, Path ocsp, Object contents) {
      this.chain = chain;
      this.key = key;
      this.ocsp = ocsp;
      this.contents = contents;
      this.hash = java.util.Objects.hash(chain, key, ocsp, contents);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof CertificateKey other
          && other.hash == hash
          && other.chain.equals(chain)
          && other.key.equals(key)
          && java.util.Objects.equals(other.ocsp, ocsp)
          && other.contents.equals(contents);
    }

    @Override
    public int hashCode() {
      return hash;
    }
  }

  /**
   * A route's context for one certificate: the scope is the route's (hosts, client CAs), the
   * certificate is compared by identity (a reused certificate is the same object).
   */
  static final class ContextKey {
    private final ServerPolicy policy;
    private final SessionScope scope;
    private final Identity certified;

    // Computed once: a reload of 10,000 routes puts every taken-over context in two maps, and the
    // policy's own hash walks its lists each time.
    private final int hash;

    ContextKey(ServerPolicy policy, SessionScope scope, Identity certified) {
      this.policy = policy;
      this.scope = scope;
      this.certified = certified;
      this.hash = java.util.Objects.hash(policy, scope, certified);
    }

    SessionScope scope() {
      return scope;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof ContextKey other
          && other.hash == hash
          && other.certified.equals(certified)
          && other.scope.equals(scope)
          && other.policy.equals(policy);
    }

    @Override
    public int hashCode() {
      return hash;
    }
  }

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
      CertificateChoice choice,
      ServerTls tls,
      Map<ContextKey, ServerCertificate> contexts,
      List<Unchanged> unchanged) {

    /**
     * Whether each of its certificates is still what it was when recorded, as far as the file watch
     * and the clock can tell without a look at a file: then the route's certificates are the ones
     * {@link CertificateLoader#load} would take over, and nothing it checks can differ.
     */
    boolean stillHolds(Object anchors, java.time.Instant now) {
      if (unchanged == null) {
        return false;
      }
      for (Unchanged u : unchanged) {
        if (!u.holds(anchors, now)) {
          return false;
        }
      }
      return true;
    }

    /** This route as built, with what now says its certificates are unchanged. */
    RouteTls with(List<Unchanged> now) {
      return new RouteTls(choice, tls, contexts, now);
    }
  }

  /**
   * A certificate taken over by its settled stamps ({@code key}), or read while they held, without
   * a problem found ({@code quiet}), and the file watch's tokens of its chain, key and OCSP path
   * (the latter also when no OCSP file exists: creating one makes it not current).
   */
  record Unchanged(
      CertificateKey key,
      CertifiedKey certified,
      Quiet quiet,
      List<io.tollgate.config.FileWatch.Token> files) {
    boolean holds(Object anchors, java.time.Instant now) {
      for (io.tollgate.config.FileWatch.Token t : files) {
        if (!t.current()) {
          return false;
        }
      }
      return quiet.holds(anchors, now);
    }
  }

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
  private final Map<Identity, Unchanged> unchanged;

  /** The ticket keys installed in {@link #contexts} when this was taken, or null. */
  private final TicketKeys installedKeys;

  private TlsReuse(
      String settings,
      Map<Identity, Quiet> quiet,
      Map<CertificateKey, CertifiedKey> certificates,
      Map<ContextKey, ServerCertificate> contexts,
      Map<Identity, RouteTls> routes,
      Map<Identity, Unchanged> unchanged,
      TicketKeys installedKeys) {
    this.settings = settings;
    this.quiet = quiet;
    this.certificates = certificates;
    this.contexts = contexts;
    this.routes = routes;
    this.unchanged = unchanged;
    this.installedKeys = installedKeys;
  }

  /** An empty record of what a build uses, under {@code settings}. */
  static TlsReuse recording(String settings) {
    return recording(settings, NONE);
  }

  /**
   * As {@link #recording(String)}, its maps sized as {@code like}'s: a reload records about what
   * the build before it did, and five maps of 5,000 entries each grown from 16, with several
   * threads putting, spent a millisecond of every reload moving entries.
   */
  static TlsReuse recording(String settings, TlsReuse like) {
    return new TlsReuse(
        settings,
        sized(like.quiet.size()),
        sized(like.certificates.size()),
        sized(like.contexts.size()),
        sized(like.routes.size()),
        sized(like.unchanged.size()),
        null);
  }

  private static <K, V> Map<K, V> sized(int entries) {
    return new ConcurrentHashMap<>(Math.max(16, entries + entries / 8));
  }

  /** This record as the next build's source, with the ticket keys its contexts carry now. */
  TlsReuse withInstalledKeys(TicketKeys keys) {
    return new TlsReuse(settings, quiet, certificates, contexts, routes, unchanged, keys);
  }

  /** The certificate loaded earlier from the same files with the same contents, or null. */
  CertifiedKey certificate(CertificateKey key) {
    return certificates.get(key);
  }

  void usedCertificate(CertificateKey key, CertifiedKey certified) {
    certificates.put(key, certified);
  }

  /**
   * Records {@code certified} under {@code key} unless this build recorded a certificate there
   * already, and answers the one recorded.
   */
  CertifiedKey usedCertificateOnce(CertificateKey key, CertifiedKey certified) {
    CertifiedKey first = certificates.putIfAbsent(key, certified);
    return first != null ? first : certified;
  }

  /** When checking {@code certified} again finds nothing, or null when unknown. */
  Quiet quiet(CertifiedKey certified) {
    return quiet.get(new Identity(certified));
  }

  void quiet(CertifiedKey certified, Quiet when) {
    quiet.put(new Identity(certified), when);
  }

  /** Records that {@code u}'s certificate was taken over (or read) by its stamps, quiet. */
  void unchanged(Unchanged u) {
    unchanged.put(new Identity(u.certified()), u);
  }

  /**
   * What this build recorded of each certificate of {@code choice} being taken over unchanged, in
   * order; null when one of them was not (read anew, or with a problem found).
   */
  List<Unchanged> unchanged(CertificateChoice choice) {
    List<Unchanged> out = new java.util.ArrayList<>(2);
    for (CertifiedKey certified : choice.present()) {
      Unchanged u = unchanged.get(new Identity(certified));
      if (u == null) {
        return null;
      }
      out.add(u);
    }
    return List.copyOf(out);
  }

  /** Records a route's certificates taken over as they were recorded ({@link Unchanged}). */
  void usedUnchanged(List<Unchanged> certificates) {
    for (Unchanged u : certificates) {
      usedCertificate(u.key(), u.certified());
      quiet(u.certified(), u.quiet());
      unchanged(u);
    }
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

  /** How many contexts this record holds (to size the maps of the build after it; tests). */
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
