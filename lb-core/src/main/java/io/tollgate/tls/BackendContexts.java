package io.tollgate.tls;

import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolConfig.Protocol;
import io.netty.handler.ssl.ApplicationProtocolConfig.SelectedListenerFailureBehavior;
import io.netty.handler.ssl.ApplicationProtocolConfig.SelectorFailureBehavior;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.tollgate.config.BackendTlsConfig;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds the client contexts of a pool's {@link BackendTls}: trust from {@code tls.ca} (or the
 * JDK's trust store), hostname verification ({@code HTTPS} endpoint identification) unless {@code
 * verify = false}, the client certificate if any, the pool's protocols, and one context per ALPN
 * value a reencrypt route of the pool can negotiate with its client, plus one without ALPN.
 */
final class BackendContexts {
  private static final Logger LOG = LoggerFactory.getLogger(BackendContexts.class);

  private final TlsProvider provider;
  private final CertificateLoader loader;
  private final CaBundles caBundles;
  private final TlsProblems problems;

  BackendContexts(
      TlsProvider provider, CertificateLoader loader, CaBundles caBundles, TlsProblems problems) {
    this.provider = provider;
    this.loader = loader;
    this.caBundles = caBundles;
    this.problems = problems;
  }

  /**
   * The backend TLS of pool {@code poolName}, or {@code null} when something was reported.
   *
   * @param alpnValues every ALPN protocol of the reencrypt routes that use the pool
   */
  PoolBackendTls build(
      String poolName, BackendTlsConfig config, Collection<String> alpnValues, String origin) {
    if (!config.verify()) {
      LOG.warn(
          "pool {}: backend certificate verification is OFF (tollgate.pools.{}.tls.verify ="
              + " false): Tollgate accepts any certificate from these servers, so anyone on the"
              + " path to them can read and change the traffic",
          poolName,
          poolName);
    }
    return contexts(poolName, config, alpnValues, origin);
  }

  /**
   * The TLS of the pool's tls/https health checks: the trust, protocols and client certificate of
   * {@link #build}, no ALPN, and the name each probe gives (its {@code server-name}, which defaults
   * to the pool's); {@code verify} is the check's. {@code null} when something was reported.
   */
  PoolBackendTls forHealthChecks(
      String poolName, BackendTlsConfig config, boolean verify, String origin) {
    BackendTlsConfig probes =
        new BackendTlsConfig(
            config.ca(),
            java.util.Optional.empty(),
            verify,
            config.certificate(),
            config.protocols());
    return contexts(poolName, probes, List.of(), origin);
  }

  private PoolBackendTls contexts(
      String poolName, BackendTlsConfig config, Collection<String> alpnValues, String origin) {
    String configPath = "tollgate.pools." + poolName + ".tls";
    int errorsBefore = problems.errorCount();
    List<X509Certificate> cas = null;
    if (config.ca().isPresent()) {
      cas = caBundles.get(config.ca().get(), configPath + ".ca");
    }
    CertifiedKey clientCertificate = null;
    if (config.certificate().isPresent()) {
      clientCertificate = loader.load(config.certificate().get(), configPath + ".certificate");
    }
    // A CA file shared with another pool or route reports its problem once: cas is then null
    // without a new error, and must not fall back to the JDK's trust store.
    if (problems.errorCount() != errorsBefore || (config.ca().isPresent() && cas == null)) {
      return null;
    }
    try {
      SslContext withoutAlpn = build(config, cas, clientCertificate, null);
      Map<String, SslContext> byAlpn = new LinkedHashMap<>();
      for (String alpn : alpnValues) {
        byAlpn.put(alpn, build(config, cas, clientCertificate, alpn));
      }
      return new PoolBackendTls(
          poolName, config.serverName(), config.verify(), withoutAlpn, byAlpn);
    } catch (Exception e) {
      problems.error(
          origin,
          configPath,
          "cannot build the backend TLS context with "
              + provider.describe()
              + ": "
              + e.getMessage());
      return null;
    }
  }

  private SslContext build(
      BackendTlsConfig config,
      List<X509Certificate> cas,
      CertifiedKey clientCertificate,
      String alpn)
      throws Exception {
    SslContextBuilder builder =
        SslContextBuilder.forClient()
            .sslProvider(provider.sslProvider())
            .protocols(config.protocols())
            // Set per engine too (PoolBackendTls); here so Netty's own default agrees.
            .endpointIdentificationAlgorithm(config.verify() ? "HTTPS" : null);
    if (!config.verify()) {
      builder.trustManager(InsecureTrustManagerFactory.INSTANCE);
    } else if (cas != null) {
      builder.trustManager(cas);
    } else {
      builder.trustManager(TrustAnchors.defaultTrustManager());
    }
    if (clientCertificate != null) {
      builder.keyManager(clientCertificate.key(), clientCertificate.chain());
    }
    if (alpn != null) {
      builder.applicationProtocolConfig(
          new ApplicationProtocolConfig(
              Protocol.ALPN,
              SelectorFailureBehavior.NO_ADVERTISE,
              SelectedListenerFailureBehavior.ACCEPT,
              alpn));
    }
    return builder.build();
  }
}
