package io.tollgate.acme;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.tollgate.config.AcmeConfig;
import io.tollgate.config.CertificateSource;
import io.tollgate.config.RouteConfig;
import io.tollgate.config.TollgateConfig;
import io.tollgate.tls.CertifiedKey;
import io.tollgate.tls.KeyKind;
import io.tollgate.tls.ManagedCertificates;
import java.io.IOException;
import java.net.ConnectException;
import java.nio.channels.FileChannel;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.shredzone.acme4j.challenge.Http01Challenge;
import org.shredzone.acme4j.challenge.TlsAlpn01Challenge;
import org.shredzone.acme4j.exception.AcmeNetworkException;
import org.shredzone.acme4j.exception.AcmeRateLimitedException;
import org.shredzone.acme4j.exception.AcmeRetryAfterException;
import org.shredzone.acme4j.exception.AcmeServerException;
import org.shredzone.acme4j.util.KeyPairUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tollgate's ACME client: obtains and renews the certificates of routes with {@code certificate =
 * acme}, on its own single thread (never an event loop), and hands them to the routes' TLS through
 * {@link ManagedCertificates} without a reload. Answers the CA's validations: tls-alpn-01 through
 * {@link #challengeHandler}, http-01 through {@link #keyAuthorization}.
 *
 * <p>Life cycle per config: {@link #prepare} (before its snapshot is built: stored certificates are
 * read, so a start or reload serves them at once), then {@link #commit} once the config is in force
 * (orders are scheduled, names no longer configured are dropped).
 */
public final class AcmeManager implements ManagedCertificates, HttpChallenges, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AcmeManager.class);

  /** First retry after an unreachable CA; doubles per failure up to {@link #RETRY_MAX}. */
  static final Duration RETRY_BASE = Duration.ofSeconds(5);

  /** First retry after the CA refused (a problem document): validations are rate-limited. */
  static final Duration REFUSED_BASE = Duration.ofMinutes(5);

  static final Duration RETRY_MAX = Duration.ofHours(1);

  /** How often a node waiting for a peer's order looks at the shared storage again. */
  static final Duration PEER_WAIT = Duration.ofSeconds(10);

  /** Even with nothing due, storage is re-read this often (a peer may have renewed). */
  static final Duration RECHECK = Duration.ofHours(1);

  private final ScheduledExecutorService executor =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "tollgate-acme");
            t.setDaemon(true);
            return t;
          });
  private final Map<String, ManagedName> names = new ConcurrentHashMap<>();
  private final Map<String, SslContext> alpnAnswers = new ConcurrentHashMap<>();
  private final Map<String, String> httpAnswers = new ConcurrentHashMap<>();
  private final Map<Subscriber, String> subscribers =
      Collections.synchronizedMap(new WeakHashMap<>());
  private final Map<String, AtomicLong> orders = new LinkedHashMap<>();
  private volatile AcmeConfig config;
  private volatile AcmeStorage storage;

  /** Used on the manager's thread only. */
  private AcmeClient client;

  public AcmeManager() {
    // BouncyCastle is registered by the first AcmeStorage, once a config has an acme section:
    // registering it costs ~0.2 s of a start that needs none of it.
    for (String outcome : List.of("issued", "refused", "unreachable", "failed")) {
      orders.put(outcome, new AtomicLong());
    }
  }

  /**
   * Reads the stored certificates of {@code next}'s acme routes (new routes, or routes whose hosts
   * changed); names already managed keep their state. Call it before building the snapshot.
   */
  public synchronized void prepare(TollgateConfig next) {
    if (next.acme().isEmpty()) {
      return;
    }
    AcmeConfig acme = next.acme().get();
    if (!acme.equals(config)) {
      AcmeStorage nextStorage = new AcmeStorage(acme.storage());
      Challenges answers = new Challenges();
      executor.execute(() -> client = new AcmeClient(acme, nextStorage, answers));
      storage = nextStorage;
      config = acme;
    }
    for (RouteConfig route : acmeRoutes(next)) {
      ManagedName known = names.get(route.name());
      if (known == null || !known.hosts.equals(route.hosts())) {
        ManagedName name = new ManagedName(route.name(), route.hosts());
        loadStored(name, Instant.now());
        if (known != null) {
          cancel(known);
        }
        names.put(route.name(), name);
      }
    }
  }

  /** Puts {@code next} in force: orders what is missing or due, forgets routes it dropped. */
  public synchronized void commit(TollgateConfig next) {
    if (next.acme().isEmpty() && names.isEmpty()) {
      return; // no route can ask for ACME without the section (10,000 routes not looked at)
    }
    // A set: a node with thousands of ACME tenants looked each name up in a list.
    Set<String> wanted =
        acmeRoutes(next).stream().map(RouteConfig::name).collect(Collectors.toSet());
    for (ManagedName name : List.copyOf(names.values())) {
      if (!wanted.contains(name.route)) {
        cancel(name);
        names.remove(name.route);
      }
    }
    for (ManagedName name : names.values()) {
      if (name.scheduled == null) {
        schedule(name, Duration.ZERO);
      }
    }
  }

  /** Looks at {@code route} now rather than at its scheduled time (tests, an operator's nudge). */
  public synchronized void checkNow(String route) {
    ManagedName name = names.get(route);
    if (name != null) {
      cancel(name);
      schedule(name, Duration.ZERO);
    }
  }

  private static List<RouteConfig> acmeRoutes(TollgateConfig config) {
    return config.routes().stream()
        .filter(
            r ->
                r.tls().isPresent()
                    && r.tls().get().certificate() instanceof CertificateSource.Acme)
        .toList();
  }

  private void cancel(ManagedName name) {
    if (name.scheduled != null) {
      name.scheduled.cancel(false);
      name.scheduled = null;
    }
  }

  private synchronized void schedule(ManagedName name, Duration delay) {
    if (executor.isShutdown() || names.get(name.route) != name) {
      return;
    }
    name.nextAttempt = Instant.now().plus(delay);
    name.scheduled =
        executor.schedule(() -> check(name), Math.max(0, delay.toMillis()), TimeUnit.MILLISECONDS);
  }

  /** One look at a name: pick up a peer's result, or order if due. On the manager's thread. */
  private void check(ManagedName name) {
    if (names.get(name.route) != name || config == null) {
      return;
    }
    Instant now = Instant.now();
    loadStored(name, now);
    if (!due(name, now)) {
      scheduleRenewal(name, now);
      return;
    }
    try (FileChannel lock = storage.tryLock(name.route)) {
      if (lock == null) {
        name.state = ManagedName.State.WAITING_FOR_PEER;
        schedule(name, jitter(PEER_WAIT));
        return;
      }
      // A peer may have finished just before this node got the lock.
      loadStored(name, now);
      if (!due(name, now)) {
        scheduleRenewal(name, now);
        return;
      }
      name.state = name.current.isEmpty() ? ManagedName.State.PENDING : ManagedName.State.RENEWING;
      order(name);
    } catch (Exception e) {
      failed(name, e);
    }
  }

  private void order(ManagedName name) throws Exception {
    List<CertifiedKey> issued = new ArrayList<>();
    for (KeyKind kind : wantedKinds()) {
      X509Certificate replacing =
          name.current.stream()
              .filter(c -> c.kind() == kind)
              .map(CertifiedKey::leaf)
              .findFirst()
              .orElse(null);
      log.info("ACME: ordering a {} certificate for {}", kind, name.hosts);
      AcmeClient.Issued result = client.order(name.hosts, kind, replacing);
      issued.add(storage.write(name.route, kind, result.key(), result.chain()));
    }
    orders.get("issued").incrementAndGet();
    name.failures = 0;
    name.lastError = null;
    name.lastErrorAt = null;
    name.lastIssued = Instant.now();
    install(name, issued);
    log.info("ACME: installed the certificate for {}, valid until {}", name.hosts, name.notAfter());
    scheduleRenewal(name, Instant.now());
  }

  private void failed(ManagedName name, Exception e) {
    if (e instanceof InterruptedException) {
      Thread.currentThread().interrupt();
      return;
    }
    boolean unreachable =
        e instanceof AcmeNetworkException
            || e instanceof ConnectException
            || e.getCause() instanceof ConnectException
            || e.getCause() instanceof java.net.http.HttpConnectTimeoutException;
    boolean refused = !unreachable && e instanceof AcmeServerException;
    orders.get(unreachable ? "unreachable" : refused ? "refused" : "failed").incrementAndGet();
    if (client != null) {
      client.reset();
    }
    Duration delay;
    // Under the lock status() reads with: the error and its retry are one change, so a status
    // never pairs this error with the previous attempt's time.
    synchronized (this) {
      name.failures++;
      name.lastError = describe(e);
      name.lastErrorAt = Instant.now();
      name.state = name.current.isEmpty() ? ManagedName.State.FAILED : ManagedName.State.RENEWING;
      delay = backoff(name.failures, refused ? REFUSED_BASE : RETRY_BASE);
      Instant retryAfter = retryAfter(e);
      if (retryAfter != null && Duration.between(Instant.now(), retryAfter).compareTo(delay) > 0) {
        delay = Duration.between(Instant.now(), retryAfter);
      }
      schedule(name, delay);
    }
    log.warn(
        "ACME: order for {} failed ({} in a row), retrying in {}s: {}",
        name.hosts,
        name.failures,
        delay.toSeconds(),
        name.lastError);
  }

  private static Instant retryAfter(Exception e) {
    if (e instanceof AcmeRetryAfterException r) {
      return r.getRetryAfter();
    }
    if (e instanceof AcmeRateLimitedException r) {
      return r.getRetryAfter().orElse(null);
    }
    return null;
  }

  private static String describe(Exception e) {
    String message = e.getMessage();
    if (e.getCause() != null && e.getCause().getMessage() != null) {
      message = message + " (" + e.getCause().getMessage() + ")";
    }
    return message == null ? e.getClass().getSimpleName() : message;
  }

  /** Exponential from {@code base}, capped, jittered to 50..100% so a fleet does not align. */
  static Duration backoff(int failures, Duration base) {
    long millis = base.toMillis() << Math.min(failures - 1, 20);
    millis = Math.min(millis, RETRY_MAX.toMillis());
    return jitter(Duration.ofMillis(millis));
  }

  private static Duration jitter(Duration d) {
    return Duration.ofMillis(
        d.toMillis() / 2 + ThreadLocalRandom.current().nextLong(d.toMillis() / 2 + 1));
  }

  private void scheduleRenewal(ManagedName name, Instant now) {
    name.state = ManagedName.State.VALID;
    Instant at = name.renewAt;
    Duration delay = Duration.between(now, at);
    if (delay.compareTo(RECHECK) > 0) {
      delay = RECHECK;
    }
    schedule(name, delay.isNegative() ? Duration.ZERO : delay);
  }

  private List<KeyKind> wantedKinds() {
    List<KeyKind> kinds = new ArrayList<>();
    if (config.keyType().ecdsa()) {
      kinds.add(KeyKind.ECDSA);
    }
    if (config.keyType().rsa()) {
      kinds.add(KeyKind.RSA);
    }
    return kinds;
  }

  private boolean due(ManagedName name, Instant now) {
    return name.current.size() != wantedKinds().size()
        || name.renewAt == null
        || !now.isBefore(name.renewAt);
  }

  /** Serves the stored certificates when they are complete, current and newer than what is. */
  private synchronized void loadStored(ManagedName name, Instant now) {
    if (storage == null) {
      return;
    }
    List<CertifiedKey> stored = new ArrayList<>();
    for (KeyKind kind : wantedKinds()) {
      CertifiedKey c = storage.read(name.route, kind);
      if (c != null && c.validAt(now) && c.dnsNames().containsAll(name.hosts)) {
        stored.add(c);
      }
    }
    if (stored.isEmpty() || sameLeaves(stored, name.current)) {
      return;
    }
    if (stored.size() < name.current.size()) {
      return;
    }
    install(name, stored);
  }

  private static boolean sameLeaves(List<CertifiedKey> a, List<CertifiedKey> b) {
    if (a.size() != b.size()) {
      return false;
    }
    for (int i = 0; i < a.size(); i++) {
      if (!a.get(i).leaf().equals(b.get(i).leaf())) {
        return false;
      }
    }
    return true;
  }

  private void install(ManagedName name, List<CertifiedKey> certificates) {
    name.current = List.copyOf(certificates);
    name.renewAt = renewAt(certificates);
    List<Subscriber> told;
    synchronized (subscribers) {
      told =
          subscribers.entrySet().stream()
              .filter(e -> e.getValue().equals(name.route))
              .map(Map.Entry::getKey)
              .toList();
    }
    told.forEach(Subscriber::certificatesChanged);
  }

  /**
   * When to renew: inside the CA's ARI window when it offers one (a random point, so a fleet and
   * the CA's load spread), else {@code renew-before} ahead of the earliest expiry but never more
   * than a third of the lifetime ahead (a short-lived certificate must not renew endlessly).
   */
  private Instant renewAt(List<CertifiedKey> certificates) {
    CertifiedKey first =
        certificates.stream().min((x, y) -> x.notAfter().compareTo(y.notAfter())).orElseThrow();
    if (client != null && Thread.currentThread().getName().equals("tollgate-acme")) {
      Optional<Instant[]> window = client.renewalWindow(first.leaf());
      if (window.isPresent()) {
        Instant start = window.get()[0];
        long span = Math.max(0, Duration.between(start, window.get()[1]).toMillis());
        return start.plusMillis(ThreadLocalRandom.current().nextLong(span + 1));
      }
    }
    Instant notBefore = first.leaf().getNotBefore().toInstant();
    Duration lifetime = Duration.between(notBefore, first.notAfter());
    Duration ahead = config.renewBefore();
    if (ahead.compareTo(lifetime.dividedBy(3)) > 0) {
      ahead = lifetime.dividedBy(3);
    }
    return first.notAfter().minus(ahead);
  }

  // ManagedCertificates

  @Override
  public List<CertifiedKey> current(String routeName) {
    ManagedName name = names.get(routeName);
    return name == null ? List.of() : name.current;
  }

  @Override
  public SslHandler challengeHandler(ByteBufAllocator alloc, String sni) {
    SslContext context = alpnAnswers.get(sni);
    return context == null ? null : context.newHandler(alloc);
  }

  @Override
  public void subscribe(String routeName, Subscriber subscriber) {
    subscribers.put(subscriber, routeName);
  }

  // HttpChallenges

  @Override
  public Optional<String> keyAuthorization(String host, String token) {
    return Optional.ofNullable(httpAnswers.get(httpKey(host, token)));
  }

  private static String httpKey(String host, String token) {
    return host.toLowerCase(java.util.Locale.ROOT) + "\n" + token;
  }

  /** Publishes answers while the CA validates. */
  private final class Challenges implements AcmeClient.Challenges {
    private final Map<String, String> httpTokens = new ConcurrentHashMap<>();

    @Override
    public void tlsAlpn(String host, TlsAlpn01Challenge challenge) throws IOException {
      // acme4j signs the challenge certificate with SHA256withRSA: it needs an RSA key.
      KeyPair key = KeyPairUtils.createKeyPair(2048);
      X509Certificate certificate =
          challenge.createCertificate(key, org.shredzone.acme4j.Identifier.dns(host));
      SslContext context =
          SslContextBuilder.forServer(key.getPrivate(), certificate)
              .protocols("TLSv1.2", "TLSv1.3")
              .applicationProtocolConfig(
                  new ApplicationProtocolConfig(
                      ApplicationProtocolConfig.Protocol.ALPN,
                      ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                      ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                      TlsAlpn01Challenge.ACME_TLS_1_PROTOCOL))
              .build();
      alpnAnswers.put(host, context);
    }

    @Override
    public void http(String host, Http01Challenge challenge) {
      httpTokens.put(host, challenge.getToken());
      httpAnswers.put(httpKey(host, challenge.getToken()), challenge.getAuthorization());
    }

    @Override
    public void withdraw(String host) {
      alpnAnswers.remove(host);
      String token = httpTokens.remove(host);
      if (token != null) {
        httpAnswers.remove(httpKey(host, token));
      }
    }
  }

  // Status and metrics

  /** One entry per managed name, for {@code GET /status}. */
  public synchronized List<Map<String, Object>> status() {
    List<Map<String, Object>> out = new ArrayList<>();
    for (ManagedName name : names.values()) {
      Map<String, Object> s = new LinkedHashMap<>();
      s.put("route", name.route);
      s.put("hosts", name.hosts);
      s.put("state", name.state.name().toLowerCase(java.util.Locale.ROOT));
      s.put("not_after", text(name.notAfter()));
      s.put("next_renewal", text(name.renewAt));
      s.put("next_attempt", text(name.nextAttempt));
      s.put("failures", name.failures);
      s.put("last_error", name.lastError);
      s.put("last_error_at", text(name.lastErrorAt));
      s.put("last_issued", text(name.lastIssued));
      out.add(s);
    }
    out.sort((a, b) -> ((String) a.get("route")).compareTo((String) b.get("route")));
    return out;
  }

  private static String text(Instant instant) {
    return instant == null ? null : instant.toString();
  }

  /** Orders by outcome since start (issued, refused, unreachable, failed). */
  public long orders(String outcome) {
    return Objects.requireNonNull(orders.get(outcome), outcome).get();
  }

  /** {@code tollgate_acme_*}: orders by outcome, last error and next renewal per name. */
  public void registerMetrics(PrometheusRegistry registry) {
    CounterWithCallback.builder()
        .name("tollgate_acme_orders_total")
        .help(
            "ACME orders since start by outcome: issued, refused (the CA answered with a"
                + " problem), unreachable (no answer from the CA), failed (anything else)")
        .labelNames("outcome")
        .callback(cb -> orders.forEach((outcome, n) -> cb.call(n.get(), outcome)))
        .register(registry);
    GaugeWithCallback.builder()
        .name("tollgate_acme_last_error_timestamp_seconds")
        .help(
            "When the last order for the route's names failed (unix time), with the error;"
                + " absent once an order succeeds")
        .labelNames("name", "error")
        .callback(
            cb ->
                names.values().stream()
                    .filter(n -> n.lastError != null && n.lastErrorAt != null)
                    .forEach(
                        n ->
                            cb.call(
                                n.lastErrorAt.getEpochSecond(),
                                n.route,
                                n.lastError.length() > 200
                                    ? n.lastError.substring(0, 200)
                                    : n.lastError)))
        .register(registry);
    GaugeWithCallback.builder()
        .name("tollgate_acme_next_renewal_timestamp_seconds")
        .help("When the route's certificate is due for renewal (unix time)")
        .labelNames("name")
        .callback(
            cb ->
                names.values().stream()
                    .filter(n -> n.renewAt != null)
                    .forEach(n -> cb.call(n.renewAt.getEpochSecond(), n.route)))
        .register(registry);
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}
