package io.tollgate.tls;

import io.netty.util.NetUtil;
import io.tollgate.config.BackendTlsConfig;
import io.tollgate.config.CertificateFiles;
import io.tollgate.config.CertificateSource;
import io.tollgate.config.ConfigError;
import io.tollgate.config.DefaultRoute;
import io.tollgate.config.FileWatch;
import io.tollgate.config.ListenerConfig;
import io.tollgate.config.PoolConfig;
import io.tollgate.config.RouteConfig;
import io.tollgate.config.RouteMode;
import io.tollgate.config.ServerTlsConfig;
import io.tollgate.config.TlsConfig;
import io.tollgate.config.TollgateConfig;
import io.tollgate.health.ProbeTls;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Every TLS object one config needs, built once at load or reload (off the event loops: it reads
 * files) and immutable after: a {@link ServerTls} per offload/reencrypt route, a {@link BackendTls}
 * per pool that a reencrypt route uses.
 *
 * <p>A reload builds a new instance; connections that already hold a handler keep it, new ones use
 * the new material.
 */
public final class TlsMaterial {
  private final TlsProvider provider;
  private final Map<String, ServerTls> serverTls;
  private final Map<String, BackendTls> backendTls;
  private final CertificateStore store;
  private final Map<String, ProbeTls> probeTls;

  /** The ticket keys installed in this material's BoringSSL contexts, or {@code null}. */
  private final InstalledTicketKeys ticketKeys;

  /** The certificates and contexts this material used, for the next reload to take over. */
  private final TlsReuse reuse;

  private TlsMaterial(
      TlsProvider provider,
      Map<String, ServerTls> serverTls,
      Map<String, BackendTls> backendTls,
      CertificateStore store,
      Map<String, ProbeTls> probeTls,
      InstalledTicketKeys ticketKeys,
      TlsReuse reuse) {
    this.provider = provider;
    // Not copied: the builder made it for this material alone (10,000 routes a reload).
    this.serverTls = java.util.Collections.unmodifiableMap(serverTls);
    this.backendTls = Map.copyOf(backendTls);
    this.store = store;
    this.probeTls = Map.copyOf(probeTls);
    this.ticketKeys = ticketKeys;
    this.reuse = reuse;
  }

  /**
   * Reads and checks every certificate, key, CA bundle and ticket-key file the config names.
   * Problems go to {@code errors} (the build is unusable if any) or {@code warnings}; each names
   * the file and the config key it came from. Never throws for bad input.
   */
  public static TlsMaterial build(
      TollgateConfig config, List<ConfigError> errors, List<ConfigError> warnings) {
    return build(config, errors, warnings, ManagedCertificates.NONE, null);
  }

  /**
   * As {@link #build(TollgateConfig, List, List)}; routes with {@code certificate = acme} serve
   * what {@code managed} holds for them.
   */
  public static TlsMaterial build(
      TollgateConfig config,
      List<ConfigError> errors,
      List<ConfigError> warnings,
      ManagedCertificates managed) {
    return build(config, errors, warnings, managed, null);
  }

  /**
   * As {@link #build(TollgateConfig, List, List, ManagedCertificates, TlsMaterial)} without ACME.
   */
  public static TlsMaterial build(
      TollgateConfig config,
      List<ConfigError> errors,
      List<ConfigError> warnings,
      TlsMaterial previous) {
    return build(config, errors, warnings, ManagedCertificates.NONE, previous);
  }

  /**
   * As {@link #build(TollgateConfig, List, List, ManagedCertificates)} for a reload: certificates
   * whose files hold the same bytes and contexts built with the same settings for the same route
   * and certificate are taken over from {@code previous} (see {@link TlsReuse}), so untouched
   * routes keep their contexts and session caches.
   *
   * @param previous the material in force, or null
   */
  public static TlsMaterial build(
      TollgateConfig config,
      List<ConfigError> errors,
      List<ConfigError> warnings,
      ManagedCertificates managed,
      TlsMaterial previous) {
    return build(config, errors, warnings, ProcessTicketKeys.process(), managed, previous);
  }

  /** As {@link #build(TollgateConfig, List, List)} with the given process keys (tests). */
  static TlsMaterial build(
      TollgateConfig config,
      List<ConfigError> errors,
      List<ConfigError> warnings,
      ProcessTicketKeys processKeys) {
    return build(config, errors, warnings, processKeys, ManagedCertificates.NONE, null);
  }

  static TlsMaterial build(
      TollgateConfig config,
      List<ConfigError> errors,
      List<ConfigError> warnings,
      ProcessTicketKeys processKeys,
      ManagedCertificates managed,
      TlsMaterial previous) {
    TlsProvider provider = TlsProvider.select();
    TlsReuse earlier = previous == null ? TlsReuse.NONE : previous.reusable();
    try {
      return new Builder(
              config, new TlsProblems(errors, warnings), provider, processKeys, managed, earlier)
          .build();
    } catch (RuntimeException e) {
      // A bug or a broken JDK (no default trust store), not bad input: still an error, not a throw.
      errors.add(
          new ConfigError(
              config.source(), "", "cannot load the TLS material: " + e + " (please report this)"));
      return new TlsMaterial(provider, Map.of(), Map.of(), null, Map.of(), null, TlsReuse.NONE);
    }
  }

  /** What a reload may take over from this material, with the ticket keys its contexts hold now. */
  private TlsReuse reusable() {
    return reuse.withInstalledKeys(ticketKeys == null ? null : ticketKeys.installed());
  }

  /** How many server contexts a reload could take over from this material (tests). */
  int reusableContexts() {
    return reuse.contextCount();
  }

  /**
   * Without a ticket-key file: installs the process's keys in this material's BoringSSL contexts if
   * they rotated since (see {@link ProcessTicketKeys}); nothing otherwise. Call it periodically,
   * off the data path's event loops.
   *
   * @return whether new keys were installed
   */
  public boolean refreshTicketKeys() {
    return ticketKeys != null && ticketKeys.refresh();
  }

  /**
   * Every default route that sends somewhere, by its route name: {@code default} for the top-level
   * one, {@code default@LISTENER} for a listener's own.
   */
  public static Map<String, DefaultRoute> defaultRoutes(TollgateConfig config) {
    Map<String, DefaultRoute> out = new LinkedHashMap<>();
    if (!config.defaultRoute().reject()) {
      out.put(DEFAULT_ROUTE, config.defaultRoute());
    }
    for (ListenerConfig lc : config.listeners()) {
      lc.defaultRoute()
          .filter(dr -> !dr.reject())
          .ifPresent(dr -> out.put(DEFAULT_ROUTE + "@" + lc.name(), dr));
    }
    return out;
  }

  /** The name of the top-level default route in logs and metrics. */
  public static final String DEFAULT_ROUTE = "default";

  /**
   * The key of a default route's TLS in {@link #serverTls}: its route name behind an {@code @},
   * which no host name has, so it cannot meet a route's.
   */
  public static String defaultRouteKey(String routeName) {
    return "@" + routeName;
  }

  private static String defaultRoutePath(TollgateConfig config, String routeName) {
    if (routeName.equals(DEFAULT_ROUTE)) {
      return "tollgate.default-route";
    }
    String listener = routeName.substring(DEFAULT_ROUTE.length() + 1);
    for (int i = 0; i < config.listeners().size(); i++) {
      if (config.listeners().get(i).name().equals(listener)) {
        return "tollgate.listeners[" + i + "].default-route";
      }
    }
    return "tollgate.default-route";
  }

  /** For a route whose mode terminates TLS; keyed by {@code RouteConfig.name()}. */
  public ServerTls serverTls(String routeName) {
    ServerTls tls = serverTls.get(routeName);
    if (tls == null) {
      throw new IllegalArgumentException(
          "no server TLS for route "
              + routeName
              + " (not an offload/reencrypt route, or its"
              + " certificates had errors)");
    }
    return tls;
  }

  /** For a pool used by a reencrypt route (its {@code tls} block or the defaults). */
  public BackendTls backendTls(String poolName) {
    BackendTls tls = backendTls.get(poolName);
    if (tls == null) {
      throw new IllegalArgumentException(
          "no backend TLS for pool "
              + poolName
              + " (no reencrypt route uses it, or its TLS"
              + " settings had errors)");
    }
    return tls;
  }

  /**
   * For the tls/https health checks of a pool: the same trust as its reencrypt connections ({@code
   * tls.ca}, else the JDK's trust store), verifying unless the check's or the pool's {@code verify}
   * is false; {@code null} when the pool has no such check (or its TLS settings had errors).
   */
  public ProbeTls probeTls(String poolName) {
    return probeTls.get(poolName);
  }

  /** The TLS implementation every context of this material uses. */
  public TlsProvider provider() {
    return provider;
  }

  /**
   * Every server certificate of this material, once each: those of offload/reencrypt routes and
   * those in the certificate store (for the expiry metrics).
   */
  public List<CertifiedKey> certificates() {
    Set<CertifiedKey> all = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
    serverTls.values().forEach(t -> all.addAll(t.certificates()));
    if (store != null) {
      all.addAll(store.bundles());
    }
    return List.copyOf(all);
  }

  /** The certificate store ({@code certificates.directory}), if configured. */
  public Optional<CertificateStore> certificateStore() {
    return Optional.ofNullable(store);
  }

  /** One build: the state shared while reading a config. */
  private static final class Builder {
    private final TollgateConfig config;
    private final TlsProblems problems;
    private final TlsProvider provider;
    private final CaBundles caBundles;
    private final ProcessTicketKeys processKeys;
    private final ManagedCertificates managed;
    private final TlsReuse previous;
    private TlsReuse reuse = TlsReuse.NONE;
    private InstalledTicketKeys ticketKeys;
    private CertificateLoader loader;
    private CertificateStore store;
    private ServerContexts serverContexts;

    Builder(
        TollgateConfig config,
        TlsProblems problems,
        TlsProvider provider,
        ProcessTicketKeys processKeys,
        ManagedCertificates managed,
        TlsReuse previous) {
      this.config = config;
      this.problems = problems;
      this.provider = provider;
      this.processKeys = processKeys;
      this.managed = managed;
      this.previous = previous;
      this.caBundles = new CaBundles(problems);
    }

    TlsMaterial build() {
      boolean terminates =
          config.routes().stream().anyMatch(r -> r.mode().terminatesTls())
              || defaultRoutes(config).values().stream().anyMatch(d -> d.tls().isPresent());
      List<X509Certificate> extraRoots = List.of();
      if (config.certificates().trustedRoots().isPresent()) {
        List<X509Certificate> roots =
            caBundles.get(
                config.certificates().trustedRoots().get(), "tollgate.certificates.trusted-roots");
        extraRoots = roots == null ? List.of() : roots;
      }
      TlsReuse next = TlsReuse.recording(ServerContexts.settings(provider, config.tls()), previous);
      loader =
          new CertificateLoader(
              TrustAnchors.jdkDefaultsPlus(extraRoots),
              Instant.now(),
              problems,
              previous,
              next,
              FileWatch.shared().scan());
      if (config.certificates().directory().isPresent()) {
        store =
            CertificateStore.load(
                config.certificates().directory().get(),
                loader,
                problems,
                "tollgate.certificates.directory");
      }
      ticketKeys = ticketKeys(terminates);
      serverContexts = new ServerContexts(provider, config.tls(), ticketKeys, previous, next);
      reuse = next;
      Map<String, ServerTls> servers = serverTls();

      // Offload and reencrypt default routes: one certificate whatever the SNI, or none.
      for (Map.Entry<String, DefaultRoute> entry : defaultRoutes(config).entrySet()) {
        DefaultRoute dr = entry.getValue();
        if (dr.tls().isPresent()) {
          String key = defaultRouteKey(entry.getKey());
          RouteConfig asRoute = new RouteConfig(List.of(key), dr.mode(), dr.pool(), dr.tls());
          ServerTls tls =
              serverTls(
                  asRoute,
                  dr.tls().get(),
                  () -> defaultRoutePath(config, entry.getKey()),
                  problems,
                  loader);
          if (tls != null) {
            servers.put(key, tls);
          }
        }
      }

      Map<String, BackendTls> backends = new LinkedHashMap<>();
      BackendContexts backendContexts = new BackendContexts(provider, loader, caBundles, problems);
      for (Map.Entry<String, Set<String>> entry : reencryptPools().entrySet()) {
        PoolConfig pool = config.pool(entry.getKey());
        BackendTlsConfig tls = pool.tls().orElse(BackendTlsConfig.DEFAULTS);
        PoolBackendTls built =
            backendContexts.build(pool.name(), tls, entry.getValue(), config.source());
        if (built != null) {
          backends.put(pool.name(), built);
        }
      }
      return new TlsMaterial(
          provider,
          servers,
          backends,
          store,
          probeTls(backends, backendContexts),
          ticketKeys,
          reuse);
    }

    /**
     * Every route's server TLS, in route order. Built in parallel (reading, checking and building
     * contexts for 5,000 certificates is most of a load), each route reporting to its own record,
     * merged in route order so the report reads the same whatever the threads did. Client CA
     * bundles are read first, in order: a broken file shared by routes is reported once, by the
     * first.
     */
    private Map<String, ServerTls> serverTls() {
      List<RouteConfig> routes = config.routes();
      for (int i = 0; i < routes.size(); i++) {
        Optional<io.tollgate.config.ClientAuth> auth =
            routes.get(i).tls().flatMap(ServerTlsConfig::clientAuth);
        // The key path only for a route that has a bundle: 10,000 strings a reload otherwise.
        if (auth.isPresent()) {
          caBundles.get(auth.get().ca(), "tollgate.routes[" + i + "].client-auth.ca");
        }
      }
      // A concurrent map filled by the parallel part: a serial pass over 10,000 routes' names
      // was as long as taking their TLS over. Only reports with something in them are kept for
      // the merge in route order.
      Map<String, ServerTls> servers =
          new java.util.concurrent.ConcurrentHashMap<>(routes.size() * 4 / 3 + 16);
      TlsProblems[] reports = new TlsProblems[routes.size()];
      java.util.stream.IntStream.range(0, routes.size())
          .parallel()
          .forEach(
              i -> {
                RouteConfig route = routes.get(i);
                if (route.tls().isPresent()) {
                  TlsProblems own = TlsProblems.separate();
                  ServerTls built =
                      serverTls(
                          route,
                          route.tls().get(),
                          () -> "tollgate.routes[" + i + "]",
                          own,
                          loader.reportingTo(own));
                  if (own.count() > 0) {
                    reports[i] = own;
                  }
                  if (built != null) {
                    servers.put(route.name(), built);
                  }
                }
              });
      for (TlsProblems report : reports) {
        if (report != null) {
          problems.addAll(report);
        }
      }
      return servers;
    }

    /**
     * The TLS of each pool's tls/https health checks. A pool whose reencrypt contexts verify as its
     * check does shares them; a pool whose reencrypt contexts had errors (reported) gets none.
     */
    private Map<String, ProbeTls> probeTls(
        Map<String, BackendTls> reencrypt, BackendContexts backendContexts) {
      Map<String, ProbeTls> probes = new LinkedHashMap<>();
      Set<String> reencryptPools = reencryptPools().keySet();
      for (PoolConfig pool : config.pools().values()) {
        if (pool.healthCheck().filter(c -> c.type().usesTls()).isEmpty()) {
          continue;
        }
        BackendTlsConfig tls = pool.tls().orElse(BackendTlsConfig.DEFAULTS);
        boolean verify = pool.healthCheck().get().verifies(tls.verify());
        if (verify
            && pool.healthCheck().get().serverName().isEmpty()
            && tls.serverName().isEmpty()
            && pool.servers().stream()
                .anyMatch(
                    s ->
                        NetUtil.isValidIpV4Address(s.address().host())
                            || NetUtil.isValidIpV6Address(s.address().host()))) {
          problems.warning(
              config.source(),
              "tollgate.pools." + pool.name() + ".health-check",
              "the "
                  + pool.healthCheck().get().type().configName()
                  + " check verifies servers"
                  + " given by IP address against that address (there is no server-name), so"
                  + " their certificates must name it; set health-check.server-name (or"
                  + " tls.server-name) to the name their certificates carry");
        }
        BackendTls shared = reencrypt.get(pool.name());
        PoolBackendTls built;
        if (shared instanceof PoolBackendTls same && verify == tls.verify()) {
          built = same.withNamePerConnection();
        } else if (reencryptPools.contains(pool.name()) && shared == null) {
          continue;
        } else {
          built = backendContexts.forHealthChecks(pool.name(), tls, verify, config.source());
        }
        if (built != null) {
          probes.put(
              pool.name(), (alloc, server, name) -> built.newHandler(alloc, server, name, null));
        }
      }
      return probes;
    }

    /** Keys to install in server contexts, or {@code null}; reports file problems. */
    private InstalledTicketKeys ticketKeys(boolean terminates) {
      TlsConfig tls = config.tls();
      String path = "tollgate.tls.session-ticket-keys";
      if (!tls.sessionTickets()) {
        tls.sessionTicketKeys()
            .ifPresent(
                file -> problems.warning(file, path, "not used: tls.session-tickets = false"));
        if (!provider.isOpenSsl() && terminates) {
          problems.warning(
              config.source(),
              "tollgate.tls.session-tickets",
              "the JDK TLS provider issues TLS 1.3 session tickets anyway; to turn them off"
                  + " start Java with -Djdk.tls.server.enableSessionTicketExtension=false");
        }
        return null;
      }
      if (tls.sessionTicketKeys().isEmpty()) {
        return provider.isOpenSsl()
            ? new InstalledTicketKeys(processKeys.current(), processKeys)
            : null;
      }
      Path file = tls.sessionTicketKeys().get();
      TicketKeys keys = TicketKeys.read(file, path, problems);
      if (keys != null && !provider.isOpenSsl()) {
        problems.warning(
            file,
            path,
            "not used: shared session-ticket keys need the BoringSSL provider, and the JDK"
                + " provider is in use ("
                + provider.describe()
                + "); each node issues tickets"
                + " with its own keys, so sessions resume only on the node that created them");
      }
      return keys == null || !provider.isOpenSsl() ? null : new InstalledTicketKeys(keys, null);
    }

    /** Pools used by reencrypt routes, each with the union of those routes' ALPN lists. */
    private Map<String, Set<String>> reencryptPools() {
      Map<String, Set<String>> pools = new LinkedHashMap<>();
      for (RouteConfig route : config.routes()) {
        if (route.mode() == RouteMode.REENCRYPT) {
          Set<String> alpn = pools.computeIfAbsent(route.pool(), p -> new LinkedHashSet<>());
          route.tls().ifPresent(tls -> alpn.addAll(tls.alpn()));
        }
      }
      for (DefaultRoute dr : defaultRoutes(config).values()) {
        if (dr.mode() == RouteMode.REENCRYPT) {
          pools
              .computeIfAbsent(dr.pool(), p -> new LinkedHashSet<>())
              .addAll(dr.tls().get().alpn());
        }
      }
      return pools;
    }

    private ServerTls serverTls(
        RouteConfig route,
        ServerTlsConfig tls,
        java.util.function.Supplier<String> pathOfRoute,
        TlsProblems problems,
        CertificateLoader loader) {
      // The same route object (its tenant file did not change) under the same settings, around
      // the same certificate objects (their files did not change): what it had is taken over, and
      // a reload of 10,000 tenants builds none of the 9,999 others' TLS again.
      TlsReuse.RouteTls earlier =
          tls.clientAuth().isEmpty() && tls.certificate() instanceof CertificateSource.Files
              ? previous.route(serverContexts.settings(), route)
              : null;
      if (earlier != null && earlier.stillHolds(loader.anchors(), loader.now())) {
        // Nothing the watch saw touched its files and the clock is within every check's quiet
        // window: what loading them would take over, taken over without a lookup per file.
        earlier.contexts().forEach(serverContexts::takeOver);
        reuse.usedUnchanged(earlier.unchanged());
        reuse.usedRoute(route, earlier);
        return earlier.tls();
      }
      // Formatted only past the route taken over whole (10,000 strings a reload otherwise).
      String routePath = pathOfRoute.get();
      CertificateChoice loaded = null;
      if (earlier != null) {
        loaded =
            routeCertificates(
                ((CertificateSource.Files) tls.certificate()).files(),
                routePath + ".certificate",
                problems,
                loader);
        if (loaded == null) {
          return null;
        }
        if (loaded.ecdsa() == earlier.choice().ecdsa() && loaded.rsa() == earlier.choice().rsa()) {
          earlier.contexts().forEach(serverContexts::takeOver);
          reuse.usedRoute(route, earlier.with(reuse.unchanged(loaded)));
          return earlier.tls();
        }
      }
      int errorsBefore = problems.errorCount();
      List<String> unsupported = provider.unsupportedCipherSuites(tls.ciphers());
      if (!unsupported.isEmpty()) {
        problems.error(
            config.source(),
            routePath + ".ciphers",
            "cipher suite(s) not supported by "
                + provider.describe()
                + ": "
                + String.join(", ", unsupported)
                + " (use IANA names such as"
                + " TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)");
      }
      List<X509Certificate> clientCas = null;
      if (tls.clientAuth().isPresent()) {
        clientCas = caBundles.get(tls.clientAuth().get().ca(), routePath + ".client-auth.ca");
      }
      // As in BackendContexts: a shared CA file that failed for an earlier route gives null.
      if (problems.errorCount() != errorsBefore
          || (tls.clientAuth().isPresent() && clientCas == null)) {
        return null;
      }
      ServerPolicy policy = ServerPolicy.of(tls);
      SessionScope scope = SessionScope.of(route.hosts(), tls.clientAuth(), clientCas);
      String certificatePath = routePath + ".certificate";
      if (tls.certificate() instanceof CertificateSource.Files files) {
        CertificateChoice choice =
            loaded != null
                ? loaded
                : routeCertificates(files.files(), certificatePath, problems, loader);
        if (choice == null) {
          return null;
        }
        Map<CertifiedKey, ServerCertificate> contexts = new IdentityHashMap<>();
        Map<TlsReuse.ContextKey, ServerCertificate> byKey = new java.util.HashMap<>();
        for (CertifiedKey certified : choice.present()) {
          ServerCertificate built =
              serverContexts.context(
                  policy, scope, clientCas, certified, certificatePath, problems);
          if (built == null) {
            return null;
          }
          contexts.put(certified, built);
          byKey.put(ServerContexts.key(policy, scope, certified), built);
        }
        RouteServerTls built =
            new RouteServerTls(
                route.name(), sni -> choice, contexts, policy.protocols().contains("TLSv1.3"));
        if (tls.clientAuth().isEmpty() && problems.errorCount() == errorsBefore) {
          reuse.usedRoute(
              route,
              new TlsReuse.RouteTls(choice, built, Map.copyOf(byKey), reuse.unchanged(choice)));
        }
        return built;
      }
      if (tls.certificate() instanceof CertificateSource.Acme) {
        return acmeServerTls(route, policy, scope, clientCas, certificatePath);
      }
      return autoServerTls(route, policy, scope, clientCas, certificatePath, problems);
    }

    /** certificate = acme: whatever the manager holds for the route, now and after renewals. */
    private ServerTls acmeServerTls(
        RouteConfig route,
        ServerPolicy policy,
        SessionScope scope,
        List<X509Certificate> clientCas,
        String path) {
      for (String host : route.hosts()) {
        if (host.startsWith("*.")) {
          // tls-alpn-01 and http-01 cannot prove a wildcard (RFC 8555 section 7.1.3: dns-01 only).
          problems.error(
              config.source(),
              path,
              "certificate = acme cannot cover the wildcard host "
                  + host
                  + " (ACME proves wildcards with dns-01 only); list the names, or use a file");
          return null;
        }
      }
      return new ManagedServerTls(
          route.name(),
          managed,
          provider,
          config.tls(),
          ticketKeys,
          policy,
          scope,
          clientCas,
          path);
    }

    /** Loads a route's certificate list: at most one ECDSA and one RSA. */
    private CertificateChoice routeCertificates(
        List<CertificateFiles> files, String path, TlsProblems problems, CertificateLoader loader) {
      CertificateChoice choice = null;
      boolean ok = true;
      for (int j = 0; j < files.size(); j++) {
        String itemPath = files.size() == 1 ? path : path + "[" + j + "]";
        CertifiedKey certified = loader.load(files.get(j), itemPath);
        if (certified == null) {
          ok = false;
          continue;
        }
        CertifiedKey same = choice == null ? null : choice.get(certified.kind());
        if (same != null) {
          problems.error(
              certified.chainFile(),
              path,
              "two "
                  + certified.kind()
                  + " certificates ("
                  + same.chainFile()
                  + " and "
                  + certified.chainFile()
                  + "); a route may list at most one ECDSA and one RSA"
                  + " certificate (clients that support ECDSA get the ECDSA one, others RSA)");
          ok = false;
          continue;
        }
        choice = choice == null ? CertificateChoice.of(certified) : choice.with(certified);
      }
      return ok ? choice : null;
    }

    private ServerTls autoServerTls(
        RouteConfig route,
        ServerPolicy policy,
        SessionScope scope,
        List<X509Certificate> clientCas,
        String path,
        TlsProblems problems) {
      if (store == null) {
        problems.error(
            config.source(),
            path,
            "certificate = auto needs a certificate store: set certificates.directory");
        return null;
      }
      boolean ok = true;
      for (String host : route.hosts()) {
        if (!store.covers(host)) {
          ok = false;
          problems.error(
              config.source(),
              path,
              "no certificate in "
                  + store.directory()
                  + " covers "
                  + host
                  + (host.startsWith("*.")
                      ? " (a wildcard host needs a certificate for " + host + " itself)"
                      : ""));
        }
      }
      if (!ok) {
        return null;
      }
      Map<CertifiedKey, ServerCertificate> contexts = new IdentityHashMap<>();
      for (CertifiedKey bundle : store.relevantTo(route.hosts())) {
        ServerCertificate built =
            serverContexts.context(policy, scope, clientCas, bundle, path, problems);
        if (built == null) {
          return null;
        }
        contexts.put(bundle, built);
      }
      return new RouteServerTls(
          route.name(), store::lookup, contexts, policy.protocols().contains("TLSv1.3"));
    }
  }
}
