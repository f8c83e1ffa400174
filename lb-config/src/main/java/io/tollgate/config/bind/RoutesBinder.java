package io.tollgate.config.bind;

import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import io.tollgate.config.AccessRules;
import io.tollgate.config.CertificateSource;
import io.tollgate.config.DefaultRoute;
import io.tollgate.config.HandshakeLimits;
import io.tollgate.config.HttpAction;
import io.tollgate.config.Limits;
import io.tollgate.config.RouteConfig;
import io.tollgate.config.RouteMode;
import io.tollgate.config.ServerTlsConfig;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeSet;

/**
 * Binds {@code tollgate.routes} and {@code tollgate.default-route}: host patterns must be valid and
 * claimed by one route only, every pool named must exist, and TLS settings appear exactly on the
 * routes that terminate TLS.
 */
final class RoutesBinder {
  private static final String REJECT = "reject";

  /** The default route's name in metrics, limits and logs (lb-core's TlsMaterial.DEFAULT_ROUTE). */
  static final String DEFAULT_ROUTE_NAME = "default";

  private RoutesBinder() {}

  /** The route that first claimed a host pattern, for "already claimed by" messages. */
  private record Claim(int route, String firstHost) {}

  /**
   * @param listenerNames every listener name written, valid or not, which {@code listeners} of a
   *     route may name
   * @param handshakeDefaults {@code limits.per-route}, for the keys a route's limits do not set
   */
  static Optional<List<RouteConfig>> bind(
      Node node,
      PoolsBinder.Result pools,
      TlsBinder tls,
      Set<String> listenerNames,
      HandshakeLimits handshakeDefaults,
      BindMemo memo) {
    if (!node.exists()) {
      return Optional.empty();
    }
    if (node.type() != ConfigValueType.LIST) {
      node.error(Readers.wrongType(node, Schema.ROUTES.expected()));
      return Optional.empty();
    }
    ConfigList routes = (ConfigList) node.value();
    List<RouteConfig> out = new ArrayList<>(routes.size());
    // A host or two per route: sized once rather than rehashed a dozen times at 10,000 routes.
    Map<String, Claim> claims = new HashMap<>(routes.size() * 2);
    boolean ok = true;
    for (int i = 0; i < routes.size(); i++) {
      // Taken over by the parsed value alone; a Node is made only for a route bound again.
      ConfigValue value = routes.get(i);
      BindMemo.BoundRoute earlier = memo.route(value, tls, pools, listenerNames, handshakeDefaults);
      if (earlier != null && claimAgain(i, earlier.route(), claims)) {
        out.add(earlier.route());
        memo.keep(value, earlier);
        continue;
      }
      Node routeNode = node.element(i);
      int problemsBefore = node.problemCount();
      Optional<RouteConfig> route =
          bindRoute(i, routeNode, pools, tls, claims, listenerNames, handshakeDefaults);
      ok &= route.isPresent();
      route.ifPresent(out::add);
      if (route.isPresent() && node.problemCount() == problemsBefore) {
        memo.boundRoute(routeNode.value(), route.get(), tls, pools, handshakeDefaults);
      }
    }
    return ok ? Optional.of(out) : Optional.empty();
  }

  /**
   * Claims the hosts of a route taken over from the last bind, as {@link #bindHosts} would; false,
   * claiming nothing, when one is already claimed (the route is then bound again, which reports
   * it).
   */
  private static boolean claimAgain(int index, RouteConfig route, Map<String, Claim> claims) {
    // The hosts themselves unless the route matches ALPN: no list made for most of 10,000 routes.
    List<String> keys = route.hosts();
    if (!route.matchAlpn().isEmpty()) {
      List<String> withAlpn = new ArrayList<>();
      for (String host : route.hosts()) {
        route.matchAlpn().forEach(protocol -> withAlpn.add(host + " " + protocol));
      }
      keys = withAlpn;
    }
    Claim claim = new Claim(index, route.hosts().get(0));
    if (keys.size() == 1) {
      return claims.putIfAbsent(keys.get(0), claim) == null;
    }
    for (int k = 0; k < keys.size(); k++) {
      if (claims.containsKey(keys.get(k))) {
        return false;
      }
    }
    for (int k = 0; k < keys.size(); k++) {
      claims.put(keys.get(k), claim);
    }
    return true;
  }

  private static Optional<RouteConfig> bindRoute(
      int index,
      Node route,
      PoolsBinder.Result pools,
      TlsBinder tls,
      Map<String, Claim> claims,
      Set<String> listenerNames,
      HandshakeLimits handshakeDefaults) {
    if (Readers.object(
            route, Schema.ROUTE, "a route such as { hosts = [\"example.com\"], pool = web }")
        .isEmpty()) {
      return Optional.empty();
    }
    Optional<List<String>> matchAlpn = matchAlpn(route.child(Schema.MATCH_ALPN.name()));
    Node hostsNode = route.child(Schema.HOSTS.name());
    Optional<List<String>> hosts =
        Readers.required(hostsNode, Schema.HOSTS)
            ? bindHosts(
                index,
                hostsNode,
                matchAlpn.isPresent() ? claims : new HashMap<>(),
                matchAlpn.orElse(List.of()))
            : Optional.empty();
    Node modeNode = route.child(Schema.MODE.name());
    Optional<RouteMode> mode = mode(modeNode);
    Optional<Optional<ServerTlsConfig>> serverTls = serverTls(route, modeNode, mode, tls);
    Optional<String> pool = pool(route, pools.names());
    if (mode.isPresent()
        && mode.get() == RouteMode.OFFLOAD
        && pool.isPresent()
        && pools.withTls().contains(pool.get())) {
      modeNode.warn(
          "the route is offload, so Tollgate sends plaintext to pool \""
              + pool.get()
              + "\" and ignores its tls block (set mode = reencrypt to use TLS toward"
              + " its servers)");
    }
    Node maxNode = route.child(Schema.CONNECTION_LIMIT.name());
    OptionalInt max =
        maxNode.exists()
            ? Readers.intInRange(maxNode, Schema.CONNECTION_LIMIT, 0, Limits.MAX_MAX_CONNECTIONS)
            : OptionalInt.of(0);
    boolean anyAlpn = matchAlpn.map(List::isEmpty).orElse(true);
    Optional<Optional<String>> httpPool = httpPool(route, pools, anyAlpn);
    Optional<Optional<HttpAction>> http = httpAction(route, anyAlpn);
    Optional<List<String>> listeners =
        listeners(route.child(Schema.ROUTE_LISTENERS.name()), listenerNames);
    Optional<AccessRules> access = AccessBinder.bind(route);
    Optional<HandshakeLimits> handshakes =
        HandshakeLimitsBinder.route(route, mode, handshakeDefaults);
    if (hosts.isEmpty()
        || mode.isEmpty()
        || serverTls.isEmpty()
        || pool.isEmpty()
        || max.isEmpty()
        || matchAlpn.isEmpty()
        || httpPool.isEmpty()
        || http.isEmpty()
        || listeners.isEmpty()
        || access.isEmpty()
        || handshakes.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(
        new RouteConfig(
            hosts.get(),
            mode.get(),
            pool.get(),
            serverTls.get(),
            max.getAsInt(),
            matchAlpn.get(),
            httpPool.get(),
            http.get(),
            listeners.get(),
            access.get(),
            handshakes.get()));
  }

  /** {@code listeners}: names of listeners; empty (every listener) when absent. */
  private static Optional<List<String>> listeners(Node node, Set<String> listenerNames) {
    if (!node.exists()) {
      return Optional.of(List.of());
    }
    Optional<List<Node>> elements = Readers.list(node, Schema.ROUTE_LISTENERS);
    if (elements.isEmpty()) {
      return Optional.empty();
    }
    if (elements.get().isEmpty()) {
      node.error(
          "listeners is empty (expected "
              + Schema.ROUTE_LISTENERS.expected()
              + "; remove the key to route on every listener)");
      return Optional.empty();
    }
    List<String> out = new ArrayList<>();
    boolean ok = true;
    for (Node element : elements.get()) {
      Optional<String> name = Readers.string(element, Schema.ROUTE_LISTENERS);
      if (name.isPresent() && !listenerNames.contains(name.get())) {
        String suggestion =
            DidYouMean.suggest(name.get(), listenerNames)
                .map(n -> "did you mean \"" + n + "\"? ")
                .orElse("");
        element.error(
            "no listener named \""
                + name.get()
                + "\" ("
                + suggestion
                + "defined listeners: "
                + String.join(", ", new TreeSet<>(listenerNames))
                + ")");
        name = Optional.empty();
      } else if (name.isPresent() && out.contains(name.get())) {
        element.error("listener \"" + name.get() + "\" is listed twice (expected each once)");
        name = Optional.empty();
      }
      ok &= name.isPresent();
      name.ifPresent(out::add);
    }
    return ok ? Optional.of(out) : Optional.empty();
  }

  /** {@code match-alpn}: empty when absent (the route takes any hello for its hosts). */
  private static Optional<List<String>> matchAlpn(Node node) {
    if (!node.exists()) {
      return Optional.of(List.of());
    }
    Optional<List<String>> names = TlsLists.alpnList(node, Schema.MATCH_ALPN);
    if (names.isPresent() && names.get().isEmpty()) {
      node.error(
          "match-alpn = [] matches no hello (expected "
              + Schema.MATCH_ALPN.expected()
              + ", or no match-alpn for a route that takes any hello)");
      return Optional.empty();
    }
    return names;
  }

  /**
   * {@code http-pool}: a pool without tls (an http listener relays plain bytes to it). Empty inside
   * when absent, outside on error.
   */
  private static Optional<Optional<String>> httpPool(
      Node route, PoolsBinder.Result pools, boolean anyAlpn) {
    Node node = route.child(Schema.HTTP_POOL.name());
    if (!node.exists()) {
      return Optional.of(Optional.empty());
    }
    if (!anyAlpn) {
      node.error(NOT_WITH_MATCH_ALPN.formatted("http-pool"));
      return Optional.empty();
    }
    Optional<String> name = Readers.string(node, Schema.HTTP_POOL);
    if (name.isEmpty()) {
      return Optional.empty();
    }
    if (!pools.names().contains(name.get())) {
      node.error("no pool named \"" + name.get() + "\" " + poolList(name.get(), pools.names()));
      return Optional.empty();
    }
    if (pools.withTls().contains(name.get())) {
      node.error(
          "pool \""
              + name.get()
              + "\" has a tls block, but an http listener relays plain HTTP to its http-pool"
              + " (expected "
              + Schema.HTTP_POOL.expected()
              + ")");
      return Optional.empty();
    }
    return Optional.of(name);
  }

  /** {@code http} of a route: empty inside when absent (the listener's applies). */
  private static Optional<Optional<HttpAction>> httpAction(Node route, boolean anyAlpn) {
    Node node = route.child(Schema.HTTP_ACTION.name());
    if (!node.exists()) {
      return Optional.of(Optional.empty());
    }
    if (!anyAlpn) {
      node.error(NOT_WITH_MATCH_ALPN.formatted("http"));
      return Optional.empty();
    }
    return Readers.choice(node, Schema.HTTP_ACTION, HttpAction.class, "http action")
        .map(Optional::of);
  }

  private static final String NOT_WITH_MATCH_ALPN =
      "%s is not used on a route with match-alpn: a plain-HTTP request offers no ALPN, so http"
          + " listeners only use the route of its hosts without match-alpn (expected it there)";

  /**
   * The route's client-facing TLS: required when the mode terminates TLS, refused when it is
   * passthrough. Empty outside on error, empty inside for passthrough.
   */
  private static Optional<Optional<ServerTlsConfig>> serverTls(
      Node route, Node modeNode, Optional<RouteMode> mode, TlsBinder tls) {
    if (mode.isEmpty()) {
      // The mode is already reported; still check the TLS keys so their mistakes show too.
      tls.serverTls(route, false);
      return Optional.empty();
    }
    if (mode.get().terminatesTls()) {
      return tls.serverTls(route, true).map(Optional::of);
    }
    String why =
        modeNode.exists()
            ? "this route is passthrough"
            : "this route is passthrough (the default mode)";
    boolean none =
        TlsBinder.refuseServerTls(
            route, why, key -> "set mode = offload or mode = reencrypt, or remove " + key);
    return none ? Optional.of(Optional.empty()) : Optional.empty();
  }

  /**
   * The route's hosts, each claimed in {@code claims}: by itself for a route without match-alpn (at
   * most one per host), once per protocol with match-alpn (a protocol at most once per host).
   */
  private static Optional<List<String>> bindHosts(
      int routeIndex, Node node, Map<String, Claim> claims, List<String> matchAlpn) {
    Optional<List<Node>> elements = Readers.list(node, Schema.HOSTS);
    if (elements.isEmpty()) {
      return Optional.empty();
    }
    if (elements.get().isEmpty()) {
      node.error("route has no hosts (expected " + Schema.HOSTS.expected() + ")");
      return Optional.empty();
    }
    List<String> out = new ArrayList<>();
    String firstHost = null;
    boolean ok = true;
    for (Node element : elements.get()) {
      Optional<String> host = bindHost(element);
      if (host.isPresent() && firstHost == null && host.get().equals(DEFAULT_ROUTE_NAME)) {
        // The first host is the route's name in metrics, limits and the access log; this one
        // would share the default route's counters, buckets and log lines.
        element.error(
            "\""
                + DEFAULT_ROUTE_NAME
                + "\" cannot be a route's first host: the first host names the route in metrics,"
                + " limits and logs, and \"default\" names the default route there (list another"
                + " host first)");
        host = Optional.empty();
      }
      if (host.isPresent()) {
        if (firstHost == null) {
          firstHost = host.get();
        }
        Claim claim = new Claim(routeIndex, firstHost);
        Claim earlier = null;
        String shown = shown(element, host.get());
        if (matchAlpn.isEmpty()) {
          earlier = claims.putIfAbsent(host.get(), claim);
        } else {
          // A space is in neither a host nor an ALPN name, so these keys cannot meet host keys.
          for (String protocol : matchAlpn) {
            Claim before = claims.putIfAbsent(host.get() + " " + protocol, claim);
            if (before != null && earlier == null) {
              earlier = before;
              shown += " with match-alpn \"" + protocol + "\"";
            }
          }
        }
        if (earlier != null) {
          element.error(
              earlier.route() == routeIndex
                  ? shown + " is listed twice in this route (expected each host once)"
                  : shown
                      + " is already claimed by tollgate.routes["
                      + earlier.route()
                      + "] (\""
                      + earlier.firstHost()
                      + "\") (expected "
                      + (matchAlpn.isEmpty()
                          ? "each host in one route only"
                          : "each host and protocol in one route only")
                      + ")");
          host = Optional.empty();
        }
      }
      ok &= host.isPresent();
      host.ifPresent(out::add);
    }
    return ok ? Optional.of(out) : Optional.empty();
  }

  /** The host as written, plus its normalised form when that differs: "A.test." (a.test). */
  private static String shown(Node node, String normalised) {
    String raw = (String) node.value().unwrapped();
    return raw.equals(normalised) ? "\"" + raw + "\"" : "\"" + raw + "\" (" + normalised + ")";
  }

  private static Optional<String> bindHost(Node node) {
    if (node.type() != ConfigValueType.STRING) {
      node.error(Readers.wrongType(node, "a host name such as \"example.com\""));
      return Optional.empty();
    }
    String raw = (String) node.value().unwrapped();
    String host = HostPatterns.normalise(raw);
    String problem = HostPatterns.problem(host);
    if (problem != null) {
      node.error("\"" + raw + "\" " + problem);
      return Optional.empty();
    }
    return Optional.of(host);
  }

  /** {@code mode}, defaulting to passthrough when absent. */
  private static Optional<RouteMode> mode(Node node) {
    if (!node.exists()) {
      return Optional.of(Schema.DEFAULT_MODE);
    }
    return Readers.choice(node, Schema.MODE, RouteMode.class, "route mode");
  }

  /** The required {@code pool} key of a route or default route, which must name a pool. */
  private static Optional<String> pool(Node owner, Set<String> poolNames) {
    Node node = owner.child(Schema.POOL.name());
    if (!Readers.required(node, Schema.POOL)) {
      return Optional.empty();
    }
    Optional<String> name = Readers.string(node, Schema.POOL);
    if (name.isEmpty()) {
      return Optional.empty();
    }
    if (poolNames.contains(name.get())) {
      return name;
    }
    node.error("no pool named \"" + name.get() + "\" " + poolList(name.get(), poolNames));
    return Optional.empty();
  }

  private static String poolList(String wanted, Set<String> poolNames) {
    if (poolNames.isEmpty()) {
      return "(no pools are defined; expected a pool under tollgate.pools)";
    }
    // Sorted: the names come in the parsed object's hash order, and the suggestion takes the
    // first of equally close names.
    Set<String> sorted = new TreeSet<>(poolNames);
    String suggestion =
        DidYouMean.suggest(wanted, sorted).map(s -> "did you mean \"" + s + "\"? ").orElse("");
    return "(" + suggestion + "defined pools: " + String.join(", ", sorted) + ")";
  }

  /**
   * {@code default-route = reject}, or {@code default-route { pool = NAME, mode = ... }}, at the
   * top level or on a listener. Offload and reencrypt need an explicit certificate: it is served
   * whatever name the client asked for, or none.
   */
  static Optional<DefaultRoute> bindDefault(Node node, PoolsBinder.Result pools, TlsBinder tls) {
    Set<String> poolNames = pools.names();
    if (!node.exists()) {
      return Optional.of(DefaultRoute.REJECT);
    }
    if (node.type() == ConfigValueType.STRING) {
      String text = ((String) node.value().unwrapped()).trim();
      if (text.equalsIgnoreCase(REJECT)) {
        return Optional.of(DefaultRoute.REJECT);
      }
      String hint =
          poolNames.contains(text)
              ? "; to send them to pool \""
                  + text
                  + "\" write default-route { pool = "
                  + text
                  + " }"
              : DidYouMean.hint(text, List.of(REJECT));
      node.error(
          node.show()
              + " is not a valid default-route (expected "
              + Schema.DEFAULT_ROUTE.expected()
              + ")"
              + hint);
      return Optional.empty();
    }
    if (Readers.object(node, Schema.DEFAULT_ROUTE_SHAPE, Schema.DEFAULT_ROUTE.expected())
        .isEmpty()) {
      return Optional.empty();
    }
    Node modeNode = node.child(Schema.MODE.name());
    Optional<RouteMode> mode = mode(modeNode);
    Optional<Optional<ServerTlsConfig>> serverTls = serverTls(node, modeNode, mode, tls);
    if (serverTls.isPresent()
        && serverTls.get().isPresent()
        && serverTls.get().get().certificate() instanceof CertificateSource.Auto) {
      node.child(Schema.CERTIFICATE.name())
          .error(
              "certificate = auto is not supported on a default route (expected { chain = ...,"
                  + " key = ... }): the default route serves clients whose name no route lists,"
                  + " or that send none, so there is no name to look a certificate up by");
      serverTls = Optional.empty();
    }
    Optional<String> pool = pool(node, poolNames);
    Optional<AccessRules> access = AccessBinder.bind(node);
    if (mode.isEmpty() || serverTls.isEmpty() || pool.isEmpty() || access.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(
        new DefaultRoute(false, mode.get(), pool.get(), serverTls.get(), access.get()));
  }
}
