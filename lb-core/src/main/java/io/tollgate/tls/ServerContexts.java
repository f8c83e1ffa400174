package io.tollgate.tls;

import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolConfig.Protocol;
import io.netty.handler.ssl.ApplicationProtocolConfig.SelectedListenerFailureBehavior;
import io.netty.handler.ssl.ApplicationProtocolConfig.SelectorFailureBehavior;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSslSessionContext;
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
 * Builds server {@link SslContext}s: one per certificate and route policy, shared by routes with
 * the same policy. Policy: the route's protocols, its TLS 1.2 ciphers (or {@link
 * CipherSuites#TLS12_DEFAULT}) plus the TLS 1.3 suites, ALPN (no advertisement when the client
 * offers none of the route's protocols: the handshake goes on without ALPN, as nginx does),
 * client authentication, the shared session cache and session tickets, OCSP stapling.
 */
final class ServerContexts {
  private final TlsProvider provider;
  private final TlsConfig tls;
  /** Keys to install (BoringSSL with tickets on), or {@code null}. */
  private final TicketKeys ticketKeys;
  private final TlsProblems problems;
  private final Map<ServerPolicy, Map<CertifiedKey, ServerCertificate>> built = new HashMap<>();
  private final Set<CertifiedKey> ocspWarned = Collections.newSetFromMap(new IdentityHashMap<>());

  ServerContexts(TlsProvider provider, TlsConfig tls, TicketKeys ticketKeys, TlsProblems problems) {
    this.provider = provider;
    this.tls = tls;
    this.ticketKeys = ticketKeys;
    this.problems = problems;
  }

  /**
   * The context for {@code certified} under {@code policy}, built now or shared with an earlier
   * route; {@code null} when building failed (reported against {@code configPath}).
   *
   * @param clientCas the certificates of {@code policy.clientAuth().ca()}, when client auth is on
   */
  ServerCertificate context(
      ServerPolicy policy,
      List<X509Certificate> clientCas,
      CertifiedKey certified,
      String configPath) {
    Map<CertifiedKey, ServerCertificate> forPolicy =
        built.computeIfAbsent(policy, p -> new IdentityHashMap<>());
    ServerCertificate existing = forPolicy.get(certified);
    if (existing != null) {
      return existing;
    }
    ServerCertificate created = build(policy, clientCas, certified, configPath);
    if (created != null) {
      forPolicy.put(certified, created);
    }
    return created;
  }

  private ServerCertificate build(
      ServerPolicy policy,
      List<X509Certificate> clientCas,
      CertifiedKey certified,
      String configPath) {
    boolean staple = certified.ocspResponse() != null && provider.isOpenSsl();
    if (certified.ocspResponse() != null && !staple && ocspWarned.add(certified)) {
      problems.warning(
          certified.ocspFile(),
          configPath,
          "OCSP response not stapled: stapling needs the BoringSSL provider, and the JDK provider"
              + " is in use (" + provider.describe() + ")");
    }
    try {
      SslContextBuilder builder =
          SslContextBuilder.forServer(certified.key(), certified.chain())
              .sslProvider(provider.sslProvider())
              .protocols(policy.protocols())
              .ciphers(CipherSuites.enabled(policy.ciphers()), SupportedCipherSuiteFilter.INSTANCE)
              // 0 means "no cache" in our config but "unlimited" to OpenSSL and the JDK: BoringSSL's
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
      configureSessions(context);
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

  private void configureSessions(SslContext context) {
    SSLSessionContext sessions = context.sessionContext();
    if (sessions instanceof OpenSslSessionContext openSsl) {
      if (tls.sessionCacheSize() == 0) {
        openSsl.setSessionCacheEnabled(false);
      }
      // Netty turns tickets off in every OpenSSL context (SSL_OP_NO_TICKET); installing keys turns
      // them on. Without keys they stay off, which also ends TLS 1.3 resumption with BoringSSL.
      if (ticketKeys != null) {
        openSsl.setTicketKeys(ticketKeys.toOpenSsl());
      }
    }
  }
}
