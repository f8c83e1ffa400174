package io.tollgate.route;

import java.util.HashMap;
import java.util.Map;

/**
 * Maps a ClientHello's server name to a route.
 *
 * <p>Exact names are one hash lookup. A wildcard {@code *.wild.test} is stored under its suffix
 * {@code wild.test} and matches names with one or more labels before it ({@code a.wild.test},
 * {@code a.b.wild.test}; not {@code wild.test}), as nginx and Envoy do. Lookups walk the name's
 * suffixes from the longest, so the most specific wildcard wins and the cost is one lookup per
 * label. Exact beats wildcard. Anything else, and connections without SNI, get the default route,
 * which may be "reject".
 */
public final class Router {
  // Matches are built once here, so a lookup allocates no Match and no "*." pattern string.
  private final Map<String, Match> exact = new HashMap<>();
  private final Map<String, Match> wildcardBySuffix = new HashMap<>();
  private final Match fallback;

  private Router(Map<String, Route> exact, Map<String, Route> wildcard, Route defaultRoute) {
    exact.forEach((host, r) -> this.exact.put(host, new Match(r, MatchKind.EXACT, host)));
    wildcard.forEach(
        (suffix, r) ->
            this.wildcardBySuffix.put(suffix, new Match(r, MatchKind.WILDCARD, "*." + suffix)));
    this.fallback =
        defaultRoute == null
            ? new Match(null, MatchKind.REJECT, null)
            : new Match(defaultRoute, MatchKind.DEFAULT, null);
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
   * dot), or null when the client sent none.
   */
  public Match route(String sni) {
    return route(sni, -1, fallback);
  }

  /**
   * Routes {@code sni} on one listener: routes that do not apply there are skipped (a name whose
   * exact route is another listener's may still match a wildcard here), and what matches nothing
   * goes to {@code fallback}, the listener's default route.
   *
   * @param listener the listener's index; -1 for "every route applies"
   * @param fallback from {@link #fallback(Route)}, built once per listener
   */
  public Match route(String sni, int listener, Match fallback) {
    if (sni != null) {
      Match m = exact.get(sni);
      if (m != null && (listener < 0 || m.route().appliesOn(listener))) {
        return m;
      }
      for (int dot = sni.indexOf('.'); dot >= 0; dot = sni.indexOf('.', dot + 1)) {
        m = wildcardBySuffix.get(sni.substring(dot + 1));
        if (m != null && (listener < 0 || m.route().appliesOn(listener))) {
          return m;
        }
      }
    }
    return fallback;
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
    return new Builder();
  }

  /** Collects host patterns; config validation has already rejected duplicates. */
  public static final class Builder {
    private final Map<String, Route> exact = new HashMap<>();
    private final Map<String, Route> wildcard = new HashMap<>();
    private Route defaultRoute;

    /** Adds {@code pass.test} or {@code *.wild.test} (normalised) for this route. */
    public Builder host(String pattern, Route route) {
      Map<String, Route> target = exact;
      String key = pattern;
      if (pattern.startsWith("*.")) {
        target = wildcard;
        key = pattern.substring(2);
      }
      if (target.putIfAbsent(key, route) != null) {
        throw new IllegalArgumentException("host " + pattern + " is routed twice");
      }
      return this;
    }

    /** The route for unmatched names and hello without SNI; null (the default) rejects them. */
    public Builder defaultRoute(Route route) {
      this.defaultRoute = route;
      return this;
    }

    public Router build() {
      return new Router(exact, wildcard, defaultRoute);
    }
  }
}
