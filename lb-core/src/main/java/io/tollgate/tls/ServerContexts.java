package io.tollgate.tls;

import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolConfig.Protocol;
import io.netty.handler.ssl.ApplicationProtocolConfig.SelectedListenerFailureBehavior;
import io.netty.handler.ssl.ApplicationProtocolConfig.SelectorFailureBehavior;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.OpenSslServerSessionContext;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import io.netty.handler.ssl.util.KeyManagerFactoryWrapper;
import io.netty.util.internal.SystemPropertyUtil;
import io.tollgate.config.TlsConfig;
import java.security.cert.X509Certificate;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLSessionContext;

/**
 * Builds server {@link SslContext}s: one per certificate and route, never shared between routes,
 * because the context is what a TLS session is bound to (its session cache, session-id context and
 * ticket keys, all per {@link SessionScope}). Policy: the route's protocols, its TLS 1.2 ciphers
 * (or {@link CipherSuites#TLS12_DEFAULT}) plus the TLS 1.3 suites, ALPN (no advertisement when the
 * client offers none of the route's protocols: the handshake goes on without ALPN, as nginx does),
 * client authentication, the shared session cache and session tickets, OCSP stapling.
 *
 * <p>A reload takes over the contexts of the material in force that are built with the same
 * settings for the same route scope and certificate ({@link TlsReuse}), so they keep their session
 * caches. Thread-safe: routes are built in parallel.
 */
final class ServerContexts {
  private final TlsProvider provider;
  private final TlsConfig tls;

  /** Keys to install (BoringSSL with tickets on), or {@code null}. */
  private final InstalledTicketKeys ticketKeys;

  private final TlsReuse previous;
  private final TlsReuse next;
  private final String settings;
  private final Map<TlsReuse.ContextKey, ServerCertificate> built;
  private final Set<CertifiedKey> ocspWarned =
      Collections.synchronizedSet(Collections.newSetFromMap(new IdentityHashMap<>()));

  ServerContexts(TlsProvider provider, TlsConfig tls, InstalledTicketKeys ticketKeys) {
    this(provider, tls, ticketKeys, TlsReuse.NONE, TlsReuse.recording(settings(provider, tls)));
  }

  /**
   * @param previous contexts of the material in force, taken over when built under the same
   *     settings for the same route and certificate
   * @param next where the contexts used now are recorded for the next reload
   */
  ServerContexts(
      TlsProvider provider,
      TlsConfig tls,
      InstalledTicketKeys ticketKeys,
      TlsReuse previous,
      TlsReuse next) {
    this.provider = provider;
    this.tls = tls;
    this.ticketKeys = ticketKeys;
    this.previous = previous;
    this.next = next;
    this.settings = settings(provider, tls);
    // Sized as the build before's: grown from 16 by the take-over threads, it was resized a
    // dozen times a reload.
    int expected = previous.contextCount();
    this.built = new ConcurrentHashMap<>(Math.max(16, expected + expected / 8));
  }

  /**
   * What every context is built with besides the route and certificate: a reload that changes any
   * of it rebuilds every context. The ticket keys are not part of it: a reused context gets the new
   * material's keys installed when they differ ({@link InstalledTicketKeys#adopt}).
   */
  static String settings(TlsProvider provider, TlsConfig tls) {
    return provider.describe() + "|" + tls;
  }

  /**
   * The context for {@code certified} under {@code policy} for the route with {@code scope}, built
   * now or earlier for the same route; {@code null} when building failed (reported against {@code
   * configPath}).
   *
   * @param clientCas the certificates of {@code policy.clientAuth().ca()}, when client auth is on
   */
  ServerCertificate context(
      ServerPolicy policy,
      SessionScope scope,
      List<X509Certificate> clientCas,
      CertifiedKey certified,
      String configPath,
      TlsProblems problems) {
    TlsReuse.ContextKey key = key(policy, scope, certified);
    ServerCertificate existing = built.get(key);
    if (existing != null) {
      return existing;
    }
    ServerCertificate earlier = previous.context(settings, key);
    if (earlier != null) {
      takeOver(key, earlier);
      return earlier;
    }
    ServerCertificate created = build(policy, scope, clientCas, certified, configPath, problems);
    if (created != null) {
      built.put(key, created);
      next.usedContext(key, created);
    }
    return created;
  }

  /** What a context is reused under: the route's policy and scope, the certificate object. */
  static TlsReuse.ContextKey key(ServerPolicy policy, SessionScope scope, CertifiedKey certified) {
    return new TlsReuse.ContextKey(policy, scope, new TlsReuse.Identity(certified));
  }

  /** The settings every context here is built under ({@link #settings(TlsProvider, TlsConfig)}). */
  String settings() {
    return settings;
  }

  /**
   * Takes over a context the material in force built under the same settings: it gets this build's
   * ticket keys (when they changed) and is recorded for the next reload.
   */
  void takeOver(TlsReuse.ContextKey key, ServerCertificate earlier) {
    if (ticketKeys != null
        && earlier.context().sessionContext() instanceof OpenSslServerSessionContext openSsl) {
      ticketKeys.adopt(openSsl, key.scope(), previous.installedKeys());
    }
    built.put(key, earlier);
    next.usedContext(key, earlier);
  }

  private ServerCertificate build(
      ServerPolicy policy,
      SessionScope scope,
      List<X509Certificate> clientCas,
      CertifiedKey certified,
      String configPath,
      TlsProblems problems) {
    boolean staple = certified.ocspResponse() != null && provider.isOpenSsl();
    if (certified.ocspResponse() != null && !staple && ocspWarned.add(certified)) {
      problems.warning(
          certified.ocspFile(),
          configPath,
          "OCSP response not stapled: stapling needs the BoringSSL provider, and the JDK provider"
              + " is in use ("
              + provider.describe()
              + ")");
    }
    try {
      SslContextBuilder builder =
          keyMaterial(certified)
              .sslProvider(provider.sslProvider())
              .protocols(policy.protocols())
              .ciphers(CipherSuites.enabled(policy.ciphers()), SupportedCipherSuiteFilter.INSTANCE)
              // 0 means "no cache" in our config but "unlimited" to OpenSSL and the JDK:
              // BoringSSL's
              // cache is turned off below; the JDK keeps one entry (it cannot be turned off).
              .sessionCacheSize(Math.max(tls.sessionCacheSize(), 1))
              .sessionTimeout(Math.max(tls.sessionTimeout().toSeconds(), 1))
              .enableOcsp(staple);
      if (!policy.alpn().isEmpty()) {
        builder.applicationProtocolConfig(
            new ApplicationProtocolConfig(
                Protocol.ALPN,
                SelectorFailureBehavior.NO_ADVERTISE,
                SelectedListenerFailureBehavior.ACCEPT,
                policy.alpn()));
      }
      if (policy.clientAuth().isPresent()) {
        builder
            .clientAuth(
                policy.clientAuth().get().mode() == io.tollgate.config.ClientAuth.Mode.REQUIRE
                    ? ClientAuth.REQUIRE
                    : ClientAuth.OPTIONAL)
            .trustManager(clientCas);
      } else {
        builder.trustManager(NoClientCertificates.FACTORY);
      }
      SslContext context = builder.build();
      configureSessions(context, scope);
      return new ServerCertificate(certified, context, staple ? certified.ocspResponse() : null);
    } catch (Exception e) {
      // SSLException for what the provider refuses, IllegalArgumentException for bad settings.
      problems.error(
          certified.chainFile(),
          configPath,
          "cannot build the TLS context with " + provider.describe() + ": " + e.getMessage());
      return null;
    }
  }

  /**
   * A builder with the certificate's key and chain: through {@link ServerKeyManager} (no key store,
   * BoringSSL's copy made on the first handshake), or, with an OpenSSL that cannot take a key
   * manager (or Netty told not to use one), through Netty's in-memory key store. That store's
   * password is empty; PKCS12, its default type, protects the key with PBKDF2 (10,000 iterations,
   * twice: store and read back), which was 40% of loading 1,000 offload routes and protects nothing
   * here, so it is JKS.
   */
  private SslContextBuilder keyMaterial(CertifiedKey certified) {
    X509Certificate[] chain = certified.chain().toArray(new X509Certificate[0]);
    if (provider.isOpenSsl()
        && !(OpenSsl.supportsKeyManagerFactory()
            && SystemPropertyUtil.getBoolean(
                "io.netty.handler.ssl.openssl.useKeyManagerFactory", true))) {
      return SslContextBuilder.forServer(certified.key(), chain).keyStoreType("JKS");
    }
    return SslContextBuilder.forServer(
        new KeyManagerFactoryWrapper(
            new ServerKeyManager(certified.key(), chain, certified.kind())));
  }

  /**
   * Binds the context's sessions to the route's scope. BoringSSL: the session-id context, checked
   * on every resumption, and ticket keys derived for the scope. JDK: nothing to do, since each
   * {@code SSLContext} has its own session cache and its own random ticket keys (JDK 17 keeps the
   * stateless-ticket keys in the server {@code SSLSessionContext}), and contexts are per route.
   */
  private void configureSessions(SslContext context, SessionScope scope) {
    SSLSessionContext sessions = context.sessionContext();
    if (sessions instanceof OpenSslServerSessionContext openSsl) {
      if (!openSsl.setSessionIdContext(scope.sessionIdContext())) {
        throw new IllegalStateException("BoringSSL refused the session-id context");
      }
      if (tls.sessionCacheSize() == 0) {
        openSsl.setSessionCacheEnabled(false);
      }
      // Netty turns tickets off in every OpenSSL context (SSL_OP_NO_TICKET); installing keys turns
      // them on. Without keys they stay off, which also ends TLS 1.3 resumption with BoringSSL.
      if (ticketKeys != null) {
        ticketKeys.install(openSsl, scope);
      }
    }
  }
}
