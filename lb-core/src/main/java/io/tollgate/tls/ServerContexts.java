package io.tollgate.tls;

import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolConfig.Protocol;
import io.netty.handler.ssl.ApplicationProtocolConfig.SelectedListenerFailureBehavior;
import io.netty.handler.ssl.ApplicationProtocolConfig.SelectorFailureBehavior;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSslServerSessionContext;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import io.tollgate.config.TlsConfig;
import java.security.cert.X509Certificate;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.net.ssl.SSLSessionContext;

/**
 * Builds server {@link SslContext}s: one per certificate and route, never shared between routes,
 * because the context is what a TLS session is bound to (its session cache, session-id context and
 * ticket keys, all per {@link SessionScope}). Policy: the route's protocols, its TLS 1.2 ciphers
 * (or {@link CipherSuites#TLS12_DEFAULT}) plus the TLS 1.3 suites, ALPN (no advertisement when the
 * client offers none of the route's protocols: the handshake goes on without ALPN, as nginx does),
 * client authentication, the shared session cache and session tickets, OCSP stapling.
 */
final class ServerContexts {
  private final TlsProvider provider;
  private final TlsConfig tls;

  /** Keys to install (BoringSSL with tickets on), or {@code null}. */
  private final InstalledTicketKeys ticketKeys;

  private final TlsProblems problems;
  private final Map<Scoped, Map<CertifiedKey, ServerCertificate>> built = new HashMap<>();
  private final Set<CertifiedKey> ocspWarned = Collections.newSetFromMap(new IdentityHashMap<>());

  /** Contexts are per route: the policy and the scope both come from the route. */
  private record Scoped(ServerPolicy policy, SessionScope scope) {}

  ServerContexts(
      TlsProvider provider, TlsConfig tls, InstalledTicketKeys ticketKeys, TlsProblems problems) {
    this.provider = provider;
    this.tls = tls;
    this.ticketKeys = ticketKeys;
    this.problems = problems;
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
      String configPath) {
    Map<CertifiedKey, ServerCertificate> forPolicy =
        built.computeIfAbsent(new Scoped(policy, scope), p -> new IdentityHashMap<>());
    ServerCertificate existing = forPolicy.get(certified);
    if (existing != null) {
      return existing;
    }
    ServerCertificate created = build(policy, scope, clientCas, certified, configPath);
    if (created != null) {
      forPolicy.put(certified, created);
    }
    return created;
  }

  private ServerCertificate build(
      ServerPolicy policy,
      SessionScope scope,
      List<X509Certificate> clientCas,
      CertifiedKey certified,
      String configPath) {
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
          SslContextBuilder.forServer(certified.key(), certified.chain())
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
