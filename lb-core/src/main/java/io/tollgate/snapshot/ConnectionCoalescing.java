package io.tollgate.snapshot;

import io.tollgate.config.ConfigError;
import io.tollgate.config.ListenerProtocol;
import io.tollgate.config.RouteConfig;
import io.tollgate.config.TollgateConfig;
import io.tollgate.route.Route;
import io.tollgate.route.Router;
import io.tollgate.tls.CertifiedKey;
import io.tollgate.tls.TlsMaterial;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Finds routes whose HTTP/2 connections browsers may reuse for another route's names.
 *
 * <p>A client that negotiated h2 may send requests for any name the server's certificate covers
 * over that same connection (RFC 9113 section 9.1.1; browsers do when the name resolves to the same
 * address). Tollgate routes once per connection, by SNI, so such requests reach the first route's
 * pool. That is harmless when both names go to the same pool with the same client-auth policy;
 * otherwise one tenant's requests land at another tenant's servers, or skip a client-certificate
 * requirement. Each such pair of routes is a load warning naming both.
 *
 * <p>Only pairs that meet on a listener count: a connection made on one listener is reused only
 * there (a browser reuses it for names that resolve to its address), and only the routes that apply
 * on that listener take names there ({@code routes[].listeners}), so a tenant's route on its own
 * VIP shares nothing with the same certificate's route on another listener.
 */
final class ConnectionCoalescing {
  /**
   * A label standing for "any other name" under a certificate's wildcard: what a wildcard route,
   * not an exact one, receives.
   */
  private static final String ANY_LABEL = "any-name";

  /** What browsers offer, in their order. */
  private static final List<String> BROWSER_ALPN = List.of("h2", "http/1.1");

  private ConnectionCoalescing() {}

  /**
   * @param listeners the config's listeners as built: a connection made for a route is reused only
   *     on a listener the route applies on, and there only routes that apply there take names
   */
  static List<ConfigError> warnings(
      TollgateConfig config,
      Router router,
      TlsMaterial tls,
      Collection<ListenerSettings> listeners) {
    Map<String, ConfigError> warnings = new LinkedHashMap<>();
    for (int i = 0; i < config.routes().size(); i++) {
      RouteConfig first = config.routes().get(i);
      if (first.tls().isEmpty() || !first.tls().get().alpn().contains("h2")) {
        continue;
      }
      List<ListenerSettings> on =
          listeners.stream()
              .filter(l -> l.protocol() == ListenerProtocol.TLS)
              .filter(l -> first.listeners().isEmpty() || first.listeners().contains(l.name()))
              .toList();
      for (CertifiedKey certificate : tls.serverTls(first.name()).certificates()) {
        for (String name : namesReachable(certificate, config)) {
          // As a browser would be routed connecting to that name (routes with match-alpn).
          Router.Match anywhere = router.route(name, BROWSER_ALPN);
          if (anywhere.pattern() == null) {
            continue; // default route or reject on every listener: no second tenant named
          }
          for (ListenerSettings listener : on) {
            // The route every listener would pick wins on each listener it applies on; only
            // where it does not apply does the listener's own lookup say who takes the name.
            Router.Match match =
                anywhere.route().appliesOn(listener.index())
                    ? anywhere
                    : router.route(name, BROWSER_ALPN, listener.index(), listener.fallback());
            if (match.route() == null || match.pattern() == null) {
              continue;
            }
            RouteConfig second = routeConfig(config, match.route());
            if (second == null || second == first || !crosses(first, second)) {
              continue;
            }
            String key = first.name() + "\n" + second.name();
            warnings.putIfAbsent(
                key,
                new ConfigError(
                    config.source(),
                    "tollgate.routes[" + i + "]",
                    message(
                        first,
                        second,
                        certificate,
                        name,
                        first.listeners().isEmpty() && second.listeners().isEmpty()
                            ? null
                            : listener.name())));
          }
        }
      }
    }
    return new ArrayList<>(warnings.values());
  }

  /** Whether requests for {@code second} arriving on a connection of {@code first} go wrong. */
  private static boolean crosses(RouteConfig first, RouteConfig second) {
    return !first.pool().equals(second.pool())
        || !Objects.equals(
            first.tls().flatMap(t -> t.clientAuth()), second.tls().flatMap(t -> t.clientAuth()));
  }

  /**
   * Names a browser would send over a connection that presented {@code certificate}, as the router
   * sees them: each exact name; for {@code *.x}, every configured exact host one label under {@code
   * x} and a stand-in for the other names under it.
   */
  private static Set<String> namesReachable(CertifiedKey certificate, TollgateConfig config) {
    Set<String> names = new LinkedHashSet<>();
    for (String certName : certificate.dnsNames()) {
      if (!certName.startsWith("*.")) {
        names.add(certName);
        continue;
      }
      String parent = certName.substring(2);
      for (RouteConfig route : config.routes()) {
        for (String host : route.hosts()) {
          if (!host.startsWith("*.")
              && host.endsWith("." + parent)
              && host.indexOf('.') == host.length() - parent.length() - 1) {
            names.add(host);
          }
        }
      }
      names.add(ANY_LABEL + "." + parent);
    }
    return names;
  }

  private static RouteConfig routeConfig(TollgateConfig config, Route route) {
    for (RouteConfig rc : config.routes()) {
      if (rc.name().equals(route.name())) {
        return rc;
      }
    }
    return null;
  }

  /**
   * @param listener where both routes apply, when either is restricted to some listeners; else null
   */
  private static String message(
      RouteConfig first,
      RouteConfig second,
      CertifiedKey certificate,
      String name,
      String listener) {
    String shown =
        name.startsWith(ANY_LABEL + ".")
            ? "names under " + name.substring(ANY_LABEL.length() + 1)
            : name;
    String consequence =
        first.pool().equals(second.pool())
            ? "requests for "
                + shown
                + " can arrive over a connection made for route \""
                + first.name()
                + "\" without route \""
                + second.name()
                + "\"'s client-auth"
                + " policy"
            : "requests for "
                + shown
                + " (route \""
                + second.name()
                + "\", pool "
                + second.pool()
                + ") can reach pool "
                + first.pool();
    return "route \""
        + first.name()
        + "\" offers h2 with the certificate "
        + certificate.chainFile()
        + ", which also covers "
        + shown
        + " of route \""
        + second.name()
        + "\": browsers reuse an HTTP/2 connection for every name its"
        + " certificate covers (RFC 9113 section 9.1.1), so "
        + (listener == null ? "" : "on listener " + listener + ", where both routes apply, ")
        + consequence
        + ". Give the two"
        + " routes separate certificates, or leave h2 out of one route's alpn, or have pool "
        + first.pool()
        + "'s servers answer 421 Misdirected Request for names they do not serve";
  }
}
