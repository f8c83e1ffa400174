package io.tollgate.acme;

import io.tollgate.config.AcmeConfig;
import io.tollgate.tls.KeyKind;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.shredzone.acme4j.AccountBuilder;
import org.shredzone.acme4j.Authorization;
import org.shredzone.acme4j.Login;
import org.shredzone.acme4j.Order;
import org.shredzone.acme4j.OrderBuilder;
import org.shredzone.acme4j.RenewalInfo;
import org.shredzone.acme4j.Session;
import org.shredzone.acme4j.Status;
import org.shredzone.acme4j.challenge.Challenge;
import org.shredzone.acme4j.challenge.Http01Challenge;
import org.shredzone.acme4j.challenge.TlsAlpn01Challenge;
import org.shredzone.acme4j.connector.HttpConnector;
import org.shredzone.acme4j.connector.NetworkSettings;
import org.shredzone.acme4j.connector.Resource;
import org.shredzone.acme4j.exception.AcmeException;
import org.shredzone.acme4j.provider.GenericAcmeProvider;
import org.shredzone.acme4j.util.KeyPairUtils;

/**
 * One ACME account at one CA, through acme4j: orders a certificate for a set of names, proving each
 * with the configured challenge. Blocking; runs on the manager's own thread only.
 */
final class AcmeClient {
  /** Bound on each wait for the CA (validation, finalization). */
  private static final Duration WAIT = Duration.ofSeconds(60);

  private final AcmeConfig config;
  private final AcmeStorage storage;
  private final Challenges challenges;
  private Login login;

  /** Where challenge answers are published while the CA validates. */
  interface Challenges {
    void tlsAlpn(String host, TlsAlpn01Challenge challenge) throws IOException;

    void http(String host, Http01Challenge challenge);

    void withdraw(String host);
  }

  AcmeClient(AcmeConfig config, AcmeStorage storage, Challenges challenges) {
    this.config = config;
    this.storage = storage;
    this.challenges = challenges;
  }

  private Login login() throws AcmeException, IOException {
    if (login == null) {
      Session session = new Session(config.directory(), new Provider(sslContext()));
      session.networkSettings().setTimeout(Duration.ofSeconds(10));
      AccountBuilder account =
          new AccountBuilder().agreeToTermsOfService().useKeyPair(storage.accountKey());
      config.email().ifPresent(account::addEmail);
      login = account.createLogin(session);
    }
    return login;
  }

  /** Forget the session after a failure: the next order starts afresh (directory, nonce). */
  void reset() {
    login = null;
  }

  /**
   * Orders, proves and downloads one certificate for {@code hosts} with a new key of {@code kind}.
   *
   * @param replacing the certificate it renews (ARI's "replaces"), or null
   */
  Issued order(List<String> hosts, KeyKind kind, X509Certificate replacing)
      throws AcmeException, IOException, InterruptedException {
    Login l = login();
    OrderBuilder builder = l.newOrder().domains(hosts);
    if (replacing != null && ariOffered()) {
      builder.replaces(replacing);
    }
    Order order = builder.create();
    for (Authorization auth : order.getAuthorizations()) {
      if (auth.getStatus() != Status.VALID) {
        prove(auth);
      }
    }
    expect(order.waitUntilReady(WAIT), order, "the order did not become ready");
    KeyPair key =
        kind == KeyKind.ECDSA
            ? KeyPairUtils.createECKeyPair("secp256r1")
            : KeyPairUtils.createKeyPair(2048);
    order.execute(key);
    expect(order.waitForCompletion(WAIT), order, "the order was not completed");
    return new Issued(key, order.getCertificate().getCertificateChain());
  }

  /** A new key and the chain the CA issued for it. */
  record Issued(KeyPair key, List<X509Certificate> chain) {}

  private void prove(Authorization auth) throws AcmeException, IOException, InterruptedException {
    String host = auth.getIdentifier().getDomain();
    String type = config.challenge().acmeName();
    Optional<Challenge> found = auth.findChallenge(type);
    if (found.isEmpty()) {
      throw new AcmeException("the CA offers no " + type + " challenge for " + host);
    }
    Challenge challenge = found.get();
    if (challenge instanceof TlsAlpn01Challenge alpn) {
      challenges.tlsAlpn(host, alpn);
    } else if (challenge instanceof Http01Challenge http) {
      challenges.http(host, http);
    }
    try {
      challenge.trigger();
      Status status = auth.waitForCompletion(WAIT);
      if (status != Status.VALID) {
        String why =
            challenge.getError().map(Object::toString).orElse("authorization is " + status);
        throw new AcmeException(type + " validation of " + host + " failed: " + why);
      }
    } finally {
      challenges.withdraw(host);
    }
  }

  private static void expect(Status status, Order order, String what) throws AcmeException {
    if (status != Status.VALID && status != Status.READY) {
      String why = order.getError().map(Object::toString).orElse("status " + status);
      throw new AcmeException(what + ": " + why);
    }
  }

  private boolean ariOffered() throws AcmeException, IOException {
    return login().getSession().resourceUrlOptional(Resource.RENEWAL_INFO).isPresent();
  }

  /** The CA's suggested renewal window (RFC 9773) for {@code certificate}, if it offers ARI. */
  Optional<Instant[]> renewalWindow(X509Certificate certificate) {
    try {
      if (!ariOffered()) {
        return Optional.empty();
      }
      RenewalInfo info = login().bindRenewalInfo(certificate);
      return Optional.of(
          new Instant[] {info.getSuggestedWindowStart(), info.getSuggestedWindowEnd()});
    } catch (AcmeException | IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  /** The JDK's trust, or only {@code ca}'s roots for a private ACME server. */
  private SSLContext sslContext() throws IOException {
    if (config.ca().isEmpty()) {
      return null;
    }
    try (InputStream in = Files.newInputStream(config.ca().get())) {
      KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
      trust.load(null, null);
      int i = 0;
      for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        trust.setCertificateEntry("ca" + i++, c);
      }
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, tmf.getTrustManagers(), null);
      return context;
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot use " + config.ca().get() + ": " + e.getMessage(), e);
    }
  }

  /** acme4j's generic provider, with our trust for the CA's HTTPS when {@code ca} is set. */
  private static final class Provider extends GenericAcmeProvider {
    private final SSLContext sslContext;

    Provider(SSLContext sslContext) {
      this.sslContext = sslContext;
    }

    @Override
    protected HttpConnector createHttpConnector(NetworkSettings settings) {
      return new HttpConnector(settings) {
        @Override
        public HttpClient.Builder createClientBuilder() {
          HttpClient.Builder builder = super.createClientBuilder();
          return sslContext == null ? builder : builder.sslContext(sslContext);
        }
      };
    }
  }
}
