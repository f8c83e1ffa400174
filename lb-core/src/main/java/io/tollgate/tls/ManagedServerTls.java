package io.tollgate.tls;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslHandler;
import io.tollgate.config.TlsConfig;
import io.tollgate.inspect.EcdsaSupport;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link ServerTls} of a route with {@code certificate = acme}: serves whatever {@link
 * ManagedCertificates} holds for the route now. A new certificate replaces the contexts in one
 * volatile write, so connections in progress keep the handler they have and new ones get the new
 * certificate, without a reload. The contexts are rebuilt when the manager announces a change (off
 * the event loops); the identity check on each handshake only catches a change that raced it.
 */
final class ManagedServerTls implements ServerTls, ManagedCertificates.Subscriber {
  private static final Logger log = LoggerFactory.getLogger(ManagedServerTls.class);

  private final String routeName;
  private final ManagedCertificates source;
  private final TlsProvider provider;
  private final TlsConfig tlsConfig;
  private final InstalledTicketKeys ticketKeys;
  private final ServerPolicy policy;
  private final SessionScope scope;
  private final List<X509Certificate> clientCas;
  private final String configPath;

  /** What is served: the manager's list it was built from, and the contexts (null: none yet). */
  private record Installed(List<CertifiedKey> from, RouteServerTls tls) {}

  private volatile Installed installed = new Installed(null, null);

  ManagedServerTls(
      String routeName,
      ManagedCertificates source,
      TlsProvider provider,
      TlsConfig tlsConfig,
      InstalledTicketKeys ticketKeys,
      ServerPolicy policy,
      SessionScope scope,
      List<X509Certificate> clientCas,
      String configPath) {
    this.routeName = routeName;
    this.source = source;
    this.provider = provider;
    this.tlsConfig = tlsConfig;
    this.ticketKeys = ticketKeys;
    this.policy = policy;
    this.scope = scope;
    this.clientCas = clientCas;
    this.configPath = configPath;
    current();
    source.subscribe(routeName, this);
  }

  @Override
  public void certificatesChanged() {
    current();
  }

  private RouteServerTls current() {
    Installed now = installed;
    List<CertifiedKey> keys = source.current(routeName);
    if (now.from() == keys) {
      return now.tls();
    }
    return rebuild(keys);
  }

  private synchronized RouteServerTls rebuild(List<CertifiedKey> keys) {
    Installed now = installed;
    if (now.from() == keys) {
      return now.tls();
    }
    RouteServerTls tls = build(keys);
    installed = new Installed(keys, tls);
    return tls;
  }

  private RouteServerTls build(List<CertifiedKey> keys) {
    if (keys.isEmpty()) {
      return null;
    }
    List<io.tollgate.config.ConfigError> errors = new ArrayList<>();
    TlsProblems problems = new TlsProblems(errors, new ArrayList<>());
    ServerContexts contexts = new ServerContexts(provider, tlsConfig, ticketKeys);
    Map<CertifiedKey, ServerCertificate> built = new IdentityHashMap<>();
    CertificateChoice choice = null;
    for (CertifiedKey key : keys) {
      ServerCertificate certificate =
          contexts.context(policy, scope, clientCas, key, configPath, problems);
      if (certificate == null) {
        log.error("route {}: cannot serve the ACME certificate {}: {}", routeName, key, errors);
        continue;
      }
      built.put(key, certificate);
      choice = choice == null ? CertificateChoice.of(key) : choice.with(key);
    }
    if (choice == null) {
      return null;
    }
    CertificateChoice chosen = choice;
    return new RouteServerTls(
        routeName, sni -> chosen, built, policy.protocols().contains("TLSv1.3"));
  }

  @Override
  public SslHandler newHandler(ByteBufAllocator alloc, String sni, EcdsaSupport clientEcdsa) {
    RouteServerTls tls = current();
    return tls == null ? null : tls.newHandler(alloc, sni, clientEcdsa);
  }

  @Override
  public CertifiedKey certificateFor(String sni, EcdsaSupport clientEcdsa) {
    RouteServerTls tls = current();
    return tls == null ? null : tls.certificateFor(sni, clientEcdsa);
  }

  @Override
  public Collection<CertifiedKey> certificates() {
    RouteServerTls tls = current();
    return tls == null ? List.of() : tls.certificates();
  }

  @Override
  public boolean awaitingCertificate() {
    return current() == null;
  }

  @Override
  public SslHandler challengeHandler(ByteBufAllocator alloc, String sni) {
    return source.challengeHandler(alloc, sni);
  }

  @Override
  public String toString() {
    return "ManagedServerTls[" + routeName + "]";
  }
}
