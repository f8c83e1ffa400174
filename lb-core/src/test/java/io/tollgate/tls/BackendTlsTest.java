package io.tollgate.tls;

import static io.tollgate.tls.TlsFixtures.INTERMEDIATE;
import static io.tollgate.tls.TlsFixtures.OTHER_ROOT;
import static io.tollgate.tls.TlsFixtures.ROOT;
import static io.tollgate.tls.TlsFixtures.config;
import static io.tollgate.tls.TlsFixtures.files;
import static io.tollgate.tls.TlsFixtures.pool;
import static io.tollgate.tls.TlsFixtures.reencrypt;
import static io.tollgate.tls.TlsFixtures.trusting;
import static io.tollgate.tls.TlsFixtures.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.handler.ssl.SslHandler;
import io.tollgate.config.BackendTlsConfig;
import io.tollgate.config.CertificateFiles;
import io.tollgate.config.RouteConfig;
import io.tollgate.config.ServerTlsConfig;
import io.tollgate.config.TlsConfig;
import io.tollgate.net.Causes;
import io.tollgate.net.FailureKind;
import io.tollgate.pki.CertificateAuthority;
import io.tollgate.pki.CertificateAuthority.KeyType;
import io.tollgate.pki.IssuedCertificate;
import io.tollgate.testkit.TlsTestClient;
import io.tollgate.tls.TlsFixtures.Built;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.LoggerFactory;

/** Reencrypt's client side against an in-memory JDK server engine. */
class BackendTlsTest {
  static final InetSocketAddress SERVER = new InetSocketAddress("127.0.0.1", 8443);

  @TempDir static Path dir;
  static IssuedCertificate backend;
  static Path roots;
  static Path otherRoots;
  static CertificateFiles frontCertificate;

  @BeforeAll
  static void certificates() {
    backend = INTERMEDIATE.issue(KeyType.EC_P256, "api.internal", "shop.test", "127.0.0.1");
    roots = ROOT.writeCertificatePem(dir.resolve("backend-ca.pem"));
    otherRoots = OTHER_ROOT.writeCertificatePem(dir.resolve("other-ca.pem"));
    frontCertificate = write(INTERMEDIATE.issue(KeyType.EC_P256, "shop.test"), dir, "front");
  }

  static List<String> providers() {
    return Providers.available();
  }

  static BackendTlsConfig tls(Path ca, String serverName, boolean verify) {
    return new BackendTlsConfig(
        Optional.ofNullable(ca),
        Optional.ofNullable(serverName),
        verify,
        Optional.empty(),
        List.of("TLSv1.2", "TLSv1.3"));
  }

  private static Built load(String provider, BackendTlsConfig tls, List<String> alpn) {
    ServerTlsConfig front = TlsFixtures.withAlpn(files(frontCertificate), alpn);
    RouteConfig route = reencrypt("api", front, "shop.test");
    Built built =
        Providers.with(
            provider,
            () ->
                TlsFixtures.build(
                    config(trusting(dir), TlsConfig.DEFAULTS, List.of(route), pool("api", tls))));
    return built.assertNoErrors();
  }

  /** A JDK server engine presenting {@code certificate}; records SNI and offered ALPN. */
  static final class Backend {
    final SSLEngine engine;
    final List<String> offeredAlpn = new ArrayList<>();

    Backend(IssuedCertificate certificate, boolean needClientAuth) {
      SSLContext context = TlsTestClient.context(certificate.keyManagers(), ROOT.trustManagers());
      engine = context.createSSLEngine();
      engine.setUseClientMode(false);
      engine.setNeedClientAuth(needClientAuth);
      engine.setHandshakeApplicationProtocolSelector(
          (e, offered) -> {
            offeredAlpn.addAll(offered);
            return offered.isEmpty() ? null : offered.get(0);
          });
    }

    List<String> serverNames() {
      List<String> names = new ArrayList<>();
      for (SNIServerName name :
          ((ExtendedSSLSession) engine.getSession()).getRequestedServerNames()) {
        names.add(((SNIHostName) name).getAsciiName());
      }
      return names;
    }
  }

  private static SSLEngine handshake(Built built, Backend server, String clientSni, String alpn)
      throws Exception {
    SslHandler handler =
        built
            .material()
            .backendTls("api")
            .newHandler(UnpooledByteBufAllocator.DEFAULT, SERVER, clientSni, alpn);
    SSLEngine client = handler.engine();
    try {
      EngineHandshake.run(client, server.engine);
    } finally {
      client.closeOutbound();
    }
    return client;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("providers")
  void rightCaAndNameVerifySniAndAlpnAreSent(String provider) throws Exception {
    Built built = load(provider, tls(roots, "api.internal", true), List.of("h2", "http/1.1"));
    Backend server = new Backend(backend, false);
    SSLEngine client = handshake(built, server, "shop.test", "h2");
    assertThat(server.serverNames()).containsExactly("api.internal");
    assertThat(server.offeredAlpn).containsExactly("h2");
    assertThat(client.getApplicationProtocol()).isEqualTo("h2");
    assertThat(client.getSSLParameters().getEndpointIdentificationAlgorithm()).isEqualTo("HTTPS");

    Backend plain = new Backend(backend, false);
    handshake(built, plain, "shop.test", null);
    assertThat(plain.offeredAlpn).isEmpty();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("providers")
  void clientSniIsUsedWithoutServerNameAndTheIpWithoutEither(String provider) throws Exception {
    Built built = load(provider, tls(roots, null, true), List.of("http/1.1"));
    Backend byClientSni = new Backend(backend, false);
    handshake(built, byClientSni, "shop.test", "http/1.1");
    assertThat(byClientSni.serverNames()).containsExactly("shop.test");

    Backend byIp = new Backend(backend, false);
    handshake(built, byIp, null, null);
    assertThat(byIp.serverNames()).isEmpty();

    IssuedCertificate noIp = INTERMEDIATE.issue(KeyType.EC_P256, "shop.test");
    assertThatThrownBy(() -> handshake(built, new Backend(noIp, false), null, null))
        .isInstanceOf(SSLHandshakeException.class);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("providers")
  void certificateFromAnotherCaFails(String provider) {
    Built built = load(provider, tls(otherRoots, "api.internal", true), List.of("http/1.1"));
    assertThatThrownBy(() -> handshake(built, new Backend(backend, false), "shop.test", null))
        .isInstanceOf(SSLHandshakeException.class)
        .satisfies(
            e -> {
              assertThat(FailureKind.of(e)).isEqualTo(FailureKind.VERIFY);
              assertThat(Causes.message(e))
                  .contains("unable to find valid certification path to requested target");
            });
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("providers")
  void certificateForAnotherNameFails(String provider) {
    Built built = load(provider, tls(roots, "other.internal", true), List.of("http/1.1"));
    assertThatThrownBy(() -> handshake(built, new Backend(backend, false), "shop.test", null))
        .isInstanceOf(SSLHandshakeException.class)
        .satisfies(
            e -> {
              assertThat(FailureKind.of(e)).isEqualTo(FailureKind.VERIFY);
              assertThat(Causes.message(e))
                  .isEqualTo("No subject alternative DNS name matching other.internal found.");
            });
  }

  @Test
  void withoutCaOnlyTheJdkTrustStoreIsTrusted() {
    Built built = load(Providers.available().get(0), BackendTlsConfig.DEFAULTS, List.of());
    assertThatThrownBy(() -> handshake(built, new Backend(backend, false), "shop.test", null))
        .isInstanceOf(SSLHandshakeException.class);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("providers")
  void verifyFalseAcceptsAnyCertificateAndSaysSoLoudly(String provider) throws Exception {
    Logger logger = (Logger) LoggerFactory.getLogger(BackendContexts.class);
    ListAppender<ILoggingEvent> logged = new ListAppender<>();
    logged.start();
    logger.addAppender(logged);
    try {
      Built built = load(provider, tls(otherRoots, "wrong.internal", false), List.of("http/1.1"));
      CertificateAuthority stranger = CertificateAuthority.create("Stranger", KeyType.EC_P256);
      handshake(
          built,
          new Backend(stranger.issue(KeyType.EC_P256, "x.test"), false),
          "shop.test",
          "http/1.1");
      assertThat(logged.list)
          .singleElement()
          .satisfies(
              event -> {
                assertThat(event.getLevel().toString()).isEqualTo("WARN");
                assertThat(event.getFormattedMessage())
                    .contains("pool api")
                    .contains("verification is OFF");
              });
    } finally {
      logger.detachAppender(logged);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("providers")
  void clientCertificateIsPresentedWhenConfigured(String provider) throws Exception {
    CertificateFiles lbClient =
        write(INTERMEDIATE.issue(KeyType.EC_P256, "lb.internal"), dir, "lb");
    BackendTlsConfig withCertificate =
        new BackendTlsConfig(
            Optional.of(roots),
            Optional.of("api.internal"),
            true,
            Optional.of(lbClient),
            List.of("TLSv1.2", "TLSv1.3"));
    Built built = load(provider, withCertificate, List.of());
    Backend server = new Backend(backend, true);
    handshake(built, server, "shop.test", null);
    assertThat(server.engine.getSession().getPeerCertificates()[0])
        .isEqualTo(PemFiles.read(lbClient.chain()).certificates().get(0));

    Built without = load(provider, tls(roots, "api.internal", true), List.of());
    assertThatThrownBy(() -> handshake(without, new Backend(backend, true), "shop.test", null))
        .isInstanceOf(javax.net.ssl.SSLException.class);
  }

  @Test
  void contextsExistForTheAlpnOfEveryReencryptRouteOfThePool() {
    Built built =
        load(Providers.available().get(0), tls(roots, null, true), List.of("h2", "http/1.1"));
    BackendTls tls = built.material().backendTls("api");
    assertThat(((PoolBackendTls) tls).alpnValues()).containsExactlyInAnyOrder("h2", "http/1.1");
    assertThatThrownBy(
            () -> tls.newHandler(UnpooledByteBufAllocator.DEFAULT, SERVER, "shop.test", "spdy/3"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("spdy/3");
    assertThatThrownBy(() -> built.material().backendTls("web"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void unreadableBackendCaIsAConfigError() {
    Path missing = dir.resolve("missing-ca.pem");
    ServerTlsConfig front = files(frontCertificate);
    Built built =
        TlsFixtures.build(
            config(
                trusting(dir),
                TlsConfig.DEFAULTS,
                List.of(reencrypt("api", front, "shop.test")),
                pool("api", tls(missing, null, true))));
    assertThat(built.errors())
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.origin()).isEqualTo(missing.toString());
              assertThat(e.path()).isEqualTo("tollgate.pools.api.tls.ca");
            });
  }

  @Test
  void aCaFileSharedByTwoPoolsIsReadOnceAndNeitherPoolFallsBackToTheJdkTrustStore() {
    Path missing = dir.resolve("missing-ca.pem");
    ServerTlsConfig front = files(frontCertificate);
    Built built =
        TlsFixtures.build(
            config(
                trusting(dir),
                TlsConfig.DEFAULTS,
                List.of(
                    reencrypt("api", front, "shop.test"), reencrypt("api2", front, "api2.test")),
                pool("api", tls(missing, null, true)),
                pool("api2", tls(missing, null, true))));
    assertThat(built.errors())
        .singleElement()
        .satisfies(e -> assertThat(e.path()).isEqualTo("tollgate.pools.api.tls.ca"));
    assertThatThrownBy(() -> built.material().backendTls("api2"))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
