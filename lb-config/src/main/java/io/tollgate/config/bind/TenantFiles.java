package io.tollgate.config.bind;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import com.typesafe.config.ConfigValueType;
import io.tollgate.config.ConfigError;
import io.tollgate.config.ConfigException;
import io.tollgate.config.FileWatch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code tollgate.tenants-directory}: every {@code *.conf} file in that directory (not its
 * subdirectories), in name order, is one tenant's HOCON holding only {@code routes = [...]} and
 * {@code pools { ... }}. Its routes are appended to {@code tollgate.routes} and its pools added to
 * {@code tollgate.pools} before binding, so everything after (validation, errors, the runtime) sees
 * one config, and every value keeps its tenant file's origin: an error names the tenant file, line
 * and key. typesafe-config has no glob include, and a directory key lets tooling write and delete
 * one file per tenant without touching the main file.
 *
 * <p>Relative paths in a tenant file (certificates) resolve against the main config file's
 * directory, as in files it includes. A pool name may be defined once across all files.
 */
final class TenantFiles {
  static final String SUFFIX = ".conf";
  private static final String ROUTES = "routes";
  private static final String POOLS = "pools";

  private TenantFiles() {}

  /** The user's tree and the merged, resolved tree, both with the tenants' routes and pools. */
  record Spliced(Config user, Config merged) {}

  /**
   * The tenant directory named by {@code merged}, resolved against {@code base}; empty when the key
   * is absent or not a usable directory (the binder reports why).
   */
  static Optional<Path> directory(Config merged, Path base) {
    String key = Schema.ROOT + "." + Schema.TENANTS_DIRECTORY.name();
    if (!merged.hasPath(key) || merged.getValue(key).valueType() != ConfigValueType.STRING) {
      return Optional.empty();
    }
    String written = merged.getString(key);
    if (written.isBlank()) {
      return Optional.empty();
    }
    try {
      Path dir = base.resolve(written).normalize();
      return Files.isDirectory(dir) ? Optional.of(dir) : Optional.empty();
    } catch (java.nio.file.InvalidPathException e) {
      return Optional.empty();
    }
  }

  /**
   * The {@code *.conf} names of {@code dir}, sorted by name. Not stat'ed here: parsing stats each
   * one once anyway (its stamp) and skips what is not a regular file; a second stat per file was a
   * tenth of a reload of 10,000 tenants.
   */
  static List<Path> list(Path dir) {
    return list(dir, FileWatch.off().scan());
  }

  /** As {@link #list(Path)}, through {@code scan} (a listing the file watch keeps). */
  static List<Path> list(Path dir, FileWatch.Scan scan) {
    return scan.listing(dir, TENANT_FILE);
  }

  /** Which names of the directory are tenant files (one object: a listing is kept per filter). */
  private static final java.util.function.Predicate<String> TENANT_FILE =
      name -> name.endsWith(SUFFIX);

  /**
   * Adds the tenants of {@code dir} to the config.
   *
   * @throws ConfigException every tenant file that does not parse, holds other keys or redefines a
   *     pool, each named with its line
   */
  static Spliced splice(Config user, Config merged, Path dir) throws ConfigException {
    return splice(user, merged, dir, -1, -1);
  }

  /**
   * As {@link #splice(Config, Config, Path)}; with {@code reread >= 0}, the file at that index
   * (modulo their number) is parsed again, not taken from the last load: its values are new
   * objects, so binding takes nothing of it over either, as after a change. With {@code leaveOut >=
   * 0}, the file at that index is parsed (or taken from the last load) as usual but its routes and
   * pools are left out, as if it had been removed.
   */
  static Spliced splice(Config user, Config merged, Path dir, int reread, int leaveOut)
      throws ConfigException {
    List<ConfigError> errors = new ArrayList<>();
    List<ConfigValue> routes = new ArrayList<>(1024);
    String routesPath = Schema.ROOT + "." + ROUTES;
    String poolsPath = Schema.ROOT + "." + POOLS;
    if (merged.hasPath(routesPath) && merged.getValue(routesPath) instanceof ConfigList main) {
      routes.addAll(main);
    }
    // As of now: every change made before this load is seen, and files the watch saw untouched
    // are neither listed nor stat'ed again.
    FileWatch.Scan scan = FileWatch.shared().scan();
    List<Path> files = scan.listing(dir, TENANT_FILE);
    // One map, made into an object once: ConfigObject.withValue copies, so adding 10,000 pools
    // one by one was quadratic. Sized for a pool or so per file: grown from 16 it rehashed a
    // dozen times a load.
    ConfigObject mainPools =
        merged.hasPath(poolsPath) && merged.getValue(poolsPath) instanceof ConfigObject o
            ? o
            : null;
    // A HashMap: the object made of it keeps no order either (typesafe-config copies it into one).
    Map<String, ConfigValue> pools =
        new HashMap<>((files.size() + (mainPools == null ? 0 : mainPools.size())) * 4 / 3 + 16);
    if (mainPools != null) {
      entries(mainPools).forEach(e -> pools.put(e.getKey(), e.getValue()));
    }
    // Parsed in parallel (10,000 small files), merged in name order; a file unchanged since the
    // last load is not parsed again (ParsedTenants).
    ParsedTenants cache = ParsedTenants.forDirectory(dir, scan);
    Path again = reread < 0 || files.isEmpty() ? null : files.get(reread % files.size());
    int left = leaveOut < 0 || files.isEmpty() ? -1 : leaveOut % files.size();
    List<Object> parsed =
        files.parallelStream()
            .map(f -> cache.parse(f, TenantFiles::parse, f.equals(again) ? reread : -1))
            .toList();
    cache.keepOnlyUsed();
    for (int i = 0; i < files.size(); i++) {
      Path file = files.get(i);
      if (parsed.get(i) == ParsedTenants.NOT_A_FILE || i == left) {
        continue;
      }
      if (parsed.get(i) instanceof ConfigError error) {
        errors.add(error);
        continue;
      }
      // An unchanged file's entry is the one of last time, and so are its parts.
      ParsedTenants.Entry entry = parsed.get(i) instanceof ParsedTenants.Entry e ? e : null;
      Config tenant = entry != null ? entry.config : (Config) parsed.get(i);
      ParsedTenants.Parts parts = entry != null ? entry.parts : null;
      if (parts == null) {
        int before = errors.size();
        parts = parts(tenant, file, errors);
        if (errors.size() == before && entry != null) {
          entry.parts = parts;
        }
      }
      // One by one: addAll copies each file's list into an array first (10,000 a reload).
      List<ConfigValue> own = parts.routes();
      for (int r = 0; r < own.size(); r++) {
        routes.add(own.get(r));
      }
      for (Map.Entry<String, ConfigValue> pool : parts.pools()) {
        ConfigValue before = pools.putIfAbsent(pool.getKey(), pool.getValue());
        if (before != null) {
          errors.add(
              new ConfigError(
                  Origins.of(pool.getValue().origin(), file.toString()).toString(),
                  poolsPath + "." + pool.getKey(),
                  "pool \""
                      + pool.getKey()
                      + "\" is already defined at "
                      + Origins.of(before.origin(), "the main config file")
                      + " (pool names are shared by every tenant file)"));
        }
      }
    }
    if (!errors.isEmpty()) {
      throw new ConfigException(errors);
    }
    ConfigValue routeList = ConfigValueFactory.fromIterable(routes, "tenant routes");
    ConfigValue poolObject = ConfigValueFactory.fromMap(pools, "tenant pools");
    Config newMerged = merged.withValue(routesPath, routeList).withValue(poolsPath, poolObject);
    Config newUser;
    try {
      newUser = user.withValue(routesPath, routeList).withValue(poolsPath, poolObject);
    } catch (com.typesafe.config.ConfigException e) {
      // The user's tree cannot be edited before it is resolved (a substitution at tollgate):
      // positions then come from the resolved tree, which still has every value's own origin.
      newUser = newMerged;
    }
    return new Spliced(newUser, newMerged);
  }

  /**
   * A tenant file's routes and pools, adding to {@code errors} what else it holds (other keys,
   * values of the wrong type).
   */
  private static ParsedTenants.Parts parts(Config tenant, Path file, List<ConfigError> errors) {
    List<ConfigValue> routes = new ArrayList<>();
    List<Map.Entry<String, ConfigValue>> pools = new ArrayList<>();
    // By key, not entrySet(): typesafe-config's entry set hashes every value deeply.
    for (Map.Entry<String, ConfigValue> e : entries(tenant.root())) {
      // Formatted only for an error.
      java.util.function.Supplier<String> where =
          () -> Origins.of(e.getValue().origin(), file.toString()).toString();
      switch (e.getKey()) {
        case ROUTES -> {
          if (e.getValue() instanceof ConfigList list) {
            routes.addAll(list);
          } else {
            errors.add(new ConfigError(where.get(), ROUTES, "expected a list of routes"));
          }
        }
        case POOLS -> {
          if (e.getValue() instanceof ConfigObject object) {
            pools.addAll(entries(object));
          } else {
            errors.add(new ConfigError(where.get(), POOLS, "expected an object of named pools"));
          }
        }
        default ->
            errors.add(
                new ConfigError(
                    where.get(),
                    e.getKey(),
                    "unknown key \""
                        + e.getKey()
                        + "\" in a tenant file (a tenant file holds only routes and pools)"));
      }
    }
    return new ParsedTenants.Parts(List.copyOf(routes), List.copyOf(pools));
  }

  private static List<Map.Entry<String, ConfigValue>> entries(ConfigObject object) {
    List<Map.Entry<String, ConfigValue>> out = new ArrayList<>(object.size());
    for (String key : object.keySet()) {
      out.add(Map.entry(key, object.get(key)));
    }
    return out;
  }

  /** The tenant file's resolved config, or the error that it does not parse. */
  static Object parse(Path file) {
    try {
      return ConfigFactory.parseFile(file.toFile(), options()).resolve();
    } catch (com.typesafe.config.ConfigException e) {
      return TypesafeErrors.toError(e, file.toString());
    }
  }

  private static ConfigParseOptions options() {
    return ConfigParseOptions.defaults().setSyntax(ConfigSyntax.CONF).setAllowMissing(false);
  }
}
