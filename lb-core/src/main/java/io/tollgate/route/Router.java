package io.tollgate.route;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Maps a ClientHello's server name (and, for routes with {@code match-alpn}, its offered ALPN
 * protocols) to a route.
 *
 * <p>Exact names are one hash lookup. A wildcard {@code *.wild.test} is stored under its suffix
 * {@code wild.test} and matches names with one or more labels before it ({@code a.wild.test},
 * {@code a.b.wild.test}; not {@code wild.test}), as nginx and Envoy do. Lookups walk the name's
 * suffixes from the longest, so the most specific wildcard wins and the cost is one lookup per
 * label. Exact beats wildcard. Anything else, and connections without SNI, get the default route,
 * which may be "reject".
 *
 * <p>Several routes may share a host pattern when they differ in {@code match-alpn}: for a pattern
 * that matches, the first protocol in the client's preference order that one of them lists picks
 * that route, else the pattern's route without match-alpn; a pattern with neither is passed over as
 * if it were not listed (the next wildcard, then the default route). A router without match-alpn
 * routes pays one null check per lookup for this.
 */
public final class Router {
  // Matches are built once here, so a lookup allocates no Match and no "*." pattern string.
  private final Map<String, Match> exact;
  private final Map<String, Match> wildcardBySuffix;

  /** Per host (or wildcard suffix), per protocol; null when no route has match-alpn. */
  private final Map<String, Map<String, Match>> exactByAlpn;

  private final Map<String, Map<String, Match>> wildcardByAlpn;
  private final Match fallback;

  private Router(Builder b) {
    // The builder's maps, made for this router alone: a reload of 10,000 routes copied them once
    // more into maps of matches.
    exact = b.exact;
    wildcardBySuffix = b.wildcard;
    boolean anyAlpn = !b.exactAlpn.isEmpty() || !b.wildcardAlpn.isEmpty();
    this.exactByAlpn = anyAlpn ? matches(b.exactAlpn, MatchKind.EXACT, "") : null;
    this.wildcardByAlpn = anyAlpn ? matches(b.wildcardAlpn, MatchKind.WILDCARD, "*.") : null;
    this.fallback =
        b.defaultRoute == null
            ? new Match(null, MatchKind.REJECT, null)
            : new Match(b.defaultRoute, MatchKind.DEFAULT, null);
  }

  private static Map<String, Map<String, Match>> matches(
      Map<String, Map<String, Route>> routes, MatchKind kind, String prefix) {
    Map<String, Map<String, Match>> out = new HashMap<>();
    routes.forEach(
        (key, byProtocol) -> {
          Map<String, Match> m = new HashMap<>();
          byProtocol.forEach((p, r) -> m.put(p, new Match(r, kind, prefix + key)));
          out.put(key, m);
        });
    return out;
  }

  /** How a name was matched, for logs and {@code explain}. */
  public enum MatchKind {
    EXACT,
    WILDCARD,
    DEFAULT,
    REJECT
  }

  /**
   * The outcome of a lookup.
   *
   * @param route null when the connection is to be rejected
   * @param pattern the host pattern that matched ({@code *.wild.test}), or null for default/reject
   */
  public record Match(Route route, MatchKind kind, String pattern) {}

  /**
   * Routes a server name already normalised by the ClientHello parser (lower case, no trailing
   * dot), or null when the client sent none, for a client that offers no ALPN (a plain-HTTP
   * request): routes with {@code match-alpn} never apply.
   */
  public Match route(String sni) {
    return route(sni, List.of(), -1, fallback);
  }

  /**
   * Routes a server name as {@link #route(String)}, taking the route with {@code match-alpn} for
   * the first of the offered protocols (client preference order) that one lists.
   */
  public Match route(String sni, List<String> alpn) {
    return route(sni, alpn, -1, fallback);
  }

  /**
   * Routes {@code sni} on one listener, as {@link #route(String, List, int, Match)} for any ALPN.
   */
  public Match route(String sni, int listener, Match fallback) {
    return route(sni, List.of(), listener, fallback);
  }

  /**
   * Routes {@code sni} offering {@code alpn} on one listener: routes that do not apply there are
   * skipped (a name whose exact route is another listener's may still match a wildcard here), the
   * route with {@code match-alpn} for the first offered protocol that one lists wins over the
   * host's route without, and what matches nothing goes to {@code fallback}, the listener's default
   * route.
   *
   * @param listener the listener's index; -1 for "every route applies"
   * @param fallback from {@link #fallback(Route)}, built once per listener
   */
  public Match route(String sni, List<String> alpn, int listener, Match fallback) {
    if (sni != null) {
      Match m = lookup(exact, exactByAlpn, sni, alpn, listener);
      if (m != null) {
        return m;
      }
      for (int dot = sni.indexOf('.'); dot >= 0; dot = sni.indexOf('.', dot + 1)) {
        m = lookup(wildcardBySuffix, wildcardByAlpn, sni.substring(dot + 1), alpn, listener);
        if (m != null) {
          return m;
        }
      }
    }
    return fallback;
  }

  private static Match lookup(
      Map<String, Match> plain,
      Map<String, Map<String, Match>> byAlpn,
      String key,
      List<String> alpn,
      int listener) {
    if (byAlpn != null && !alpn.isEmpty()) {
      Map<String, Match> protocols = byAlpn.get(key);
      if (protocols != null) {
        for (int i = 0; i < alpn.size(); i++) {
          Match m = protocols.get(alpn.get(i));
          if (m != null && appliesOn(m, listener)) {
            return m;
          }
        }
      }
    }
    Match m = plain.get(key);
    return m != null && appliesOn(m, listener) ? m : null;
  }

  private static boolean appliesOn(Match m, int listener) {
    return listener < 0 || m.route().appliesOn(listener);
  }

  /** This router's own default (the top-level {@code default-route}), as a match. */
  public Match fallback() {
    return fallback;
  }

  /** A default-route match for {@code route}; null rejects. Build once, not per connection. */
  public static Match fallback(Route route) {
    return route == null
        ? new Match(null, MatchKind.REJECT, null)
        : new Match(route, MatchKind.DEFAULT, null);
  }

  public static Builder builder() {
    return new Builder(16);
  }

  /** A builder for about {@code hosts} host patterns (its maps are sized once). */
  public static Builder builder(int hosts) {
    return new Builder(hosts);
  }

  /** Collects host patterns; config validation has already rejected duplicates. */
  public static final class Builder {
    private final Map<String, Match> exact;
    private final Map<String, Match> wildcard = new HashMap<>();
    private final Map<String, Map<String, Route>> exactAlpn = new HashMap<>();
    private final Map<String, Map<String, Route>> wildcardAlpn = new HashMap<>();
    private Route defaultRoute;
    private boolean built;

    private Builder(int hosts) {
      exact = new HashMap<>(Math.max(16, hosts * 4 / 3 + 1));
    }

    /**
     * Adds {@code pass.test} or {@code *.wild.test} (normalised) for this route: for every hello,
     * or, when the route has {@code match-alpn}, for hellos offering one of its protocols.
     */
    public Builder host(String pattern, Route route) {
      notBuilt();
      boolean wild = pattern.startsWith("*.");
      String key = wild ? pattern.substring(2) : pattern;
      if (route.matchAlpn().isEmpty()) {
        Match m = new Match(route, wild ? MatchKind.WILDCARD : MatchKind.EXACT, pattern);
        if ((wild ? wildcard : exact).putIfAbsent(key, m) != null) {
          throw new IllegalArgumentException("host " + pattern + " is routed twice");
        }
        return this;
      }
      Map<String, Route> byProtocol =
          (wild ? wildcardAlpn : exactAlpn).computeIfAbsent(key, k -> new HashMap<>());
      for (String protocol : route.matchAlpn()) {
        if (byProtocol.putIfAbsent(protocol, route) != null) {
          throw new IllegalArgumentException(
              "host " + pattern + " is routed twice for ALPN " + protocol);
        }
      }
      return this;
    }

    /** The route for unmatched names and hello without SNI; null (the default) rejects them. */
    public Builder defaultRoute(Route route) {
      notBuilt();
      this.defaultRoute = route;
      return this;
    }

    /** The router; once: it takes this builder's maps over. */
    public Router build() {
      notBuilt();
      built = true;
      return new Router(this);
    }

    /** The router reads this builder's maps: nothing may change them once it is built. */
    private void notBuilt() {
      if (built) {
        throw new IllegalStateException("a router builder builds one router");
      }
    }
  }
}
