package io.tollgate.config.bind;

import com.typesafe.config.ConfigValue;
import io.tollgate.config.HandshakeLimits;
import io.tollgate.config.PoolConfig;
import io.tollgate.config.RouteConfig;
import java.nio.file.Path;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The routes and pools the last load of a config file bound, keyed by the identity of the parsed
 * value they came from. {@link ParsedTenants} hands a reload the same value objects for every
 * tenant file that did not change, so with 10,000 tenants a reload binds the one that changed and
 * takes the other 9,999 routes and pools as they were, in microseconds each.
 *
 * <p>A value is taken over only when binding it again could not give anything else: it bound
 * without an error or a warning, under a {@link TlsBinder} with the same {@link TlsBinder#memoKey},
 * and what it refers to outside itself still holds (its pools exist, with or without a tls block as
 * before; its listeners exist). Host names claimed by two routes are still found: a taken-over
 * route claims its hosts like any other, and one that meets a claim is bound again to report it.
 * What binding does not see again is whether a route's certificate files still exist; loading the
 * certificates, which reads them, reports that.
 */
final class BindMemo {
  /** Config files whose last bind is kept. */
  private static final int FILES = 8;

  private static final Map<Path, BindMemo> LAST =
      new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Path, BindMemo> eldest) {
          return size() > FILES;
        }
      };

  /** No previous bind (config text, or a first load); records nothing either. */
  static final BindMemo NONE = new BindMemo(null, Map.of(), Map.of(), null, null);

  record BoundRoute(
      RouteConfig route, Object tlsKey, boolean poolHasTls, HandshakeLimits handshakeDefaults) {}

  record BoundPool(String name, PoolConfig pool, Object tlsKey, boolean hasTls) {}

  private final Path file;
  private final Map<ConfigValue, BoundRoute> routesBefore;
  private final Map<ConfigValue, BoundPool> poolsBefore;
  // Sized as the last bind's: 10,000 entries otherwise rehash a dozen times each.
  private final Map<ConfigValue, BoundRoute> routesNow;
  private final Map<ConfigValue, BoundPool> poolsNow;

  /** The pool names, and those with a tls block, of the last bind; null when there was none. */
  private final Set<String> poolNamesBefore;

  private final Set<String> poolsWithTlsBefore;
  private Set<String> poolNamesNow;
  private Set<String> poolsWithTlsNow;

  /** Every pool of the last bind is here under its name, with or without tls as it was. */
  private boolean poolsAsBefore;

  private BindMemo(
      Path file,
      Map<ConfigValue, BoundRoute> routes,
      Map<ConfigValue, BoundPool> pools,
      Set<String> poolNames,
      Set<String> poolsWithTls) {
    this.file = file;
    this.routesBefore = routes;
    this.poolsBefore = pools;
    this.poolNamesBefore = poolNames;
    this.poolsWithTlsBefore = poolsWithTls;
    this.routesNow = new IdentityHashMap<>(Math.max(32, routes.size()));
    this.poolsNow = new IdentityHashMap<>(Math.max(32, pools.size()));
  }

  /** What the last bind of {@code configFile} recorded, to be taken from and added to. */
  static BindMemo forFile(Path configFile) {
    Path key = configFile.toAbsolutePath().normalize();
    synchronized (LAST) {
      BindMemo last = LAST.get(key);
      return last == null
          ? new BindMemo(key, Map.of(), Map.of(), null, null)
          : new BindMemo(
              key, last.routesNow, last.poolsNow, last.poolNamesNow, last.poolsWithTlsNow);
    }
  }

  /**
   * What was bound earlier from this very value under the same name and TLS binder, or null. Hand
   * it to {@link #keep(ConfigValue, BoundPool)} when taking it over: the record is kept as it is.
   */
  BoundPool pool(ConfigValue value, String name, TlsBinder tls) {
    BoundPool earlier = value == null ? null : poolsBefore.get(value);
    if (earlier == null
        || !earlier.name().equals(name)
        || !sameKey(earlier.tlsKey(), tls.memoKey())) {
      return null;
    }
    return earlier;
  }

  /** Records a pool taken over from the last bind ({@link #pool}) for the next one. */
  void keep(ConfigValue value, BoundPool earlier) {
    if (file != null) {
      poolsNow.put(value, earlier);
    }
  }

  void boundPool(ConfigValue value, String name, PoolConfig pool, TlsBinder tls, boolean hasTls) {
    if (file != null) {
      poolsNow.put(value, new BoundPool(name, pool, tls.memoKey(), hasTls));
    }
  }

  /**
   * Records this bind's pool names and those with a tls block ({@code names}, {@code withTls}), and
   * finds out whether the pools a route may refer to are the last bind's: the same number of names,
   * and each pool not taken over ({@code boundAgain}, the few of a changed file) was there with or
   * without tls as now. A taken-over pool was there by construction, so with the same count the
   * names are the same set, and the pool checks of {@link #route} hold for every route the last
   * bind checked: 10,000 of them skip two lookups each.
   */
  void poolsBound(Set<String> names, Set<String> withTls, List<String> boundAgain) {
    if (file == null) {
      return; // NONE, shared: records nothing
    }
    poolNamesNow = names;
    poolsWithTlsNow = withTls;
    boolean same = poolNamesBefore != null && names.size() == poolNamesBefore.size();
    for (int i = 0; same && i < boundAgain.size(); i++) {
      String name = boundAgain.get(i);
      same =
          poolNamesBefore.contains(name)
              && poolsWithTlsBefore.contains(name) == withTls.contains(name);
    }
    poolsAsBefore = same;
  }

  /**
   * The route bound earlier from this very value, if everything outside it that it refers to still
   * holds; else null. Hand it to {@link #keep(ConfigValue, BoundRoute)} when taking it over.
   */
  BoundRoute route(
      ConfigValue value,
      TlsBinder tls,
      PoolsBinder.Result pools,
      Set<String> listenerNames,
      HandshakeLimits handshakeDefaults) {
    BoundRoute earlier = value == null ? null : routesBefore.get(value);
    if (earlier == null
        || !sameKey(earlier.tlsKey(), tls.memoKey())
        || !earlier.handshakeDefaults().equals(handshakeDefaults)) {
      return null;
    }
    RouteConfig route = earlier.route();
    if (!route.listeners().isEmpty() && !listenerNames.containsAll(route.listeners())) {
      return null;
    }
    if (poolsAsBefore) {
      return earlier; // the pool checks below held at the last bind, and nothing they read moved
    }
    if (!pools.names().contains(route.pool())
        || pools.withTls().contains(route.pool()) != earlier.poolHasTls()) {
      return null;
    }
    Optional<String> httpPool = route.httpPool();
    if (httpPool.isPresent()
        && (!pools.names().contains(httpPool.get()) || pools.withTls().contains(httpPool.get()))) {
      return null;
    }
    return earlier;
  }

  /**
   * Records a route taken over from the last bind ({@link #route}) for the next one: what it was
   * checked against holds, so the record is kept as it is.
   */
  void keep(ConfigValue value, BoundRoute earlier) {
    if (file != null) {
      routesNow.put(value, earlier);
    }
  }

  /** Keys are made equal objects the same object ({@link TlsBinder}): most answers are here. */
  private static boolean sameKey(Object earlier, Object now) {
    return earlier == now || earlier.equals(now);
  }

  void boundRoute(
      ConfigValue value,
      RouteConfig route,
      TlsBinder tls,
      PoolsBinder.Result pools,
      HandshakeLimits handshakeDefaults) {
    if (file != null) {
      routesNow.put(
          value,
          new BoundRoute(
              route, tls.memoKey(), pools.withTls().contains(route.pool()), handshakeDefaults));
    }
  }

  /** Keeps what this bind recorded for the next load of the same file. */
  void keep() {
    if (file != null) {
      synchronized (LAST) {
        LAST.put(file, this);
      }
    }
  }
}
