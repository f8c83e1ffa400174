package io.tollgate.config.bind;

import io.tollgate.config.BalanceConfig;
import io.tollgate.config.HealthCheckConfig;
import io.tollgate.config.PassiveEjectionConfig;
import io.tollgate.config.ServerConfig;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Binds the health-check, balancing and passive-ejection keys of one pool ({@code health-check},
 * {@code balance}, {@code slow-start}, {@code on-all-down}, {@code passive-ejection}). Kept apart
 * from {@link PoolsBinder} so the pool's other settings can grow without the two touching.
 */
final class PoolHealthBinder {
  private PoolHealthBinder() {}

  /** What these keys yielded for one pool. */
  record Result(
      Optional<HealthCheckConfig> healthCheck,
      BalanceConfig balance,
      PassiveEjectionConfig passive) {}

  private static final Pattern STATUS_RANGE =
      Pattern.compile("\\s*(\\d{3})\\s*(?:-\\s*(\\d{3}))?\\s*");
  private static final Pattern PERCENT = Pattern.compile("\\s*(\\d+)\\s*%?\\s*");

  /** Empty when any of the keys has an error (already reported on its node). */
  static Optional<Result> bind(Node pool) {
    boolean ok = true;

    Optional<HealthCheckConfig> check = Optional.empty();
    Node checkNode = pool.child(Schema.HEALTH_CHECK.name());
    if (checkNode.exists()) {
      check = bindCheck(checkNode);
      ok &= check.isPresent();
    }

    BalanceConfig d = BalanceConfig.DEFAULTS;
    Node balanceNode = pool.child(Schema.BALANCE.name());
    Optional<BalanceConfig.Algorithm> algorithm =
        balanceNode.exists()
            ? Readers.choice(
                balanceNode, Schema.BALANCE, BalanceConfig.Algorithm.class, "balancing algorithm")
            : Optional.of(d.algorithm());
    Node slowNode = pool.child(Schema.SLOW_START.name());
    Optional<Duration> slowStart =
        slowNode.exists()
            ? Readers.nonNegativeDuration(slowNode, Schema.SLOW_START)
            : Optional.of(d.slowStart());
    Node allDownNode = pool.child(Schema.ON_ALL_DOWN.name());
    Optional<BalanceConfig.OnAllDown> onAllDown =
        allDownNode.exists()
            ? Readers.choice(
                allDownNode,
                Schema.ON_ALL_DOWN,
                BalanceConfig.OnAllDown.class,
                "on-all-down action")
            : Optional.of(d.onAllDown());

    Optional<PassiveEjectionConfig> passive = Optional.of(PassiveEjectionConfig.DEFAULTS);
    Node passiveNode = pool.child(Schema.PASSIVE_EJECTION.name());
    if (passiveNode.exists()) {
      passive = bindPassive(passiveNode);
    }

    if (!ok
        || algorithm.isEmpty()
        || slowStart.isEmpty()
        || onAllDown.isEmpty()
        || passive.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(
        new Result(
            check,
            new BalanceConfig(algorithm.get(), slowStart.get(), onAllDown.get()),
            passive.get()));
  }

  /** {@code max-connections} of a server object; 0 (no limit) when absent. */
  static OptionalInt maxConnections(Node server) {
    Node node = server.child(Schema.MAX_CONNECTIONS.name());
    return node.exists()
        ? Readers.intInRange(node, Schema.MAX_CONNECTIONS, 0, ServerConfig.MAX_MAX_CONNECTIONS)
        : OptionalInt.of(ServerConfig.UNLIMITED);
  }

  private static Optional<HealthCheckConfig> bindCheck(Node node) {
    if (Readers.object(node, Schema.HEALTH_CHECK_SHAPE, Schema.HEALTH_CHECK.expected()).isEmpty()) {
      return Optional.empty();
    }
    HealthCheckConfig d = HealthCheckConfig.defaults(HealthCheckConfig.Type.TCP);
    boolean ok = true;

    Node typeNode = node.child(Schema.CHECK_TYPE.name());
    Optional<HealthCheckConfig.Type> type =
        typeNode.exists()
            ? Readers.choice(
                typeNode, Schema.CHECK_TYPE, HealthCheckConfig.Type.class, "health-check type")
            : Optional.of(d.type());
    Optional<Duration> interval = duration(node, Schema.CHECK_INTERVAL, d.interval());
    Duration base = interval.orElse(d.interval());
    Optional<Duration> fast =
        duration(node, Schema.CHECK_FAST_INTERVAL, HealthCheckConfig.defaultFastInterval(base));
    Optional<Duration> down =
        duration(node, Schema.CHECK_DOWN_INTERVAL, HealthCheckConfig.defaultDownInterval(base));
    Optional<Duration> timeout = duration(node, Schema.CHECK_TIMEOUT, d.timeout());
    OptionalInt rise = count(node, Schema.CHECK_RISE, d.rise());
    OptionalInt fall = count(node, Schema.CHECK_FALL, d.fall());
    OptionalInt jitter = jitter(node.child(Schema.CHECK_JITTER.name()), d.jitterPercent());

    Node pathNode = node.child(Schema.CHECK_PATH.name());
    Optional<String> path =
        pathNode.exists() ? Readers.string(pathNode, Schema.CHECK_PATH) : Optional.of(d.path());
    if (path.isPresent() && !path.get().startsWith("/")) {
      pathNode.error(
          pathNode.show()
              + " does not start with \"/\" (expected "
              + Schema.CHECK_PATH.expected()
              + ")");
      path = Optional.empty();
    }
    Optional<String> host = optionalString(node, Schema.CHECK_HOST);
    ok &= host != null;
    int[] status = expectStatus(node.child(Schema.CHECK_EXPECT_STATUS.name()), d);
    Optional<String> body = optionalString(node, Schema.CHECK_EXPECT_BODY);
    ok &= body != null;
    Optional<String> serverName = optionalString(node, Schema.CHECK_SERVER_NAME);
    ok &= serverName != null;
    Node initialNode = node.child(Schema.CHECK_INITIAL.name());
    Optional<HealthCheckConfig.Initial> initial =
        initialNode.exists()
            ? Readers.choice(
                initialNode, Schema.CHECK_INITIAL, HealthCheckConfig.Initial.class, "initial state")
            : Optional.of(d.initial());
    Node verifyNode = node.child(Schema.CHECK_VERIFY.name());
    Optional<Boolean> verify = Optional.empty();
    if (verifyNode.exists()) {
      verify = Readers.bool(verifyNode, Schema.CHECK_VERIFY);
      ok &= verify.isPresent();
      if (type.isPresent() && !type.get().usesTls()) {
        verifyNode.warn("not used: verify applies to tls and https checks only");
      } else if (verify.isPresent() && !verify.get()) {
        verifyNode.warn(
            "the health check does not verify the servers' certificates: it passes"
                + " for any server that completes a handshake, including one impersonating them"
                + " (remove verify = false, and set the pool's tls.ca to the CA that issued their"
                + " certificates)");
      }
    }

    if (!ok
        || type.isEmpty()
        || interval.isEmpty()
        || fast.isEmpty()
        || down.isEmpty()
        || timeout.isEmpty()
        || rise.isEmpty()
        || fall.isEmpty()
        || jitter.isEmpty()
        || path.isEmpty()
        || status == null
        || initial.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(
        new HealthCheckConfig(
            type.get(),
            interval.get(),
            fast.get(),
            down.get(),
            timeout.get(),
            rise.getAsInt(),
            fall.getAsInt(),
            jitter.getAsInt(),
            path.get(),
            host,
            status[0],
            status[1],
            body,
            serverName,
            initial.get(),
            verify));
  }

  private static Optional<PassiveEjectionConfig> bindPassive(Node node) {
    if (Readers.object(node, Schema.PASSIVE_EJECTION_SHAPE, Schema.PASSIVE_EJECTION.expected())
        .isEmpty()) {
      return Optional.empty();
    }
    PassiveEjectionConfig d = PassiveEjectionConfig.DEFAULTS;
    Node failuresNode = node.child(Schema.PASSIVE_FAILURES.name());
    OptionalInt failures =
        failuresNode.exists()
            ? Readers.intInRange(
                failuresNode, Schema.PASSIVE_FAILURES, 0, PassiveEjectionConfig.MAX_FAILURES)
            : OptionalInt.of(d.failures());
    Optional<Duration> backoff = duration(node, Schema.PASSIVE_BACKOFF, d.backoff());
    if (failures.isEmpty() || backoff.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(new PassiveEjectionConfig(failures.getAsInt(), backoff.get()));
  }

  private static Optional<Duration> duration(Node parent, Schema.Key key, Duration dflt) {
    Node node = parent.child(key.name());
    return node.exists() ? Readers.positiveDuration(node, key) : Optional.of(dflt);
  }

  private static OptionalInt count(Node parent, Schema.Key key, int dflt) {
    Node node = parent.child(key.name());
    return node.exists()
        ? Readers.intInRange(node, key, 1, Schema.MAX_RISE_FALL)
        : OptionalInt.of(dflt);
  }

  /** Absent: empty Optional; present and valid: the text; an error: null. */
  private static Optional<String> optionalString(Node parent, Schema.Key key) {
    Node node = parent.child(key.name());
    if (!node.exists()) {
      return Optional.empty();
    }
    Optional<String> s = Readers.string(node, key);
    if (s.isPresent() && s.get().isBlank()) {
      node.error("empty value (expected " + key.expected() + ")");
      return null;
    }
    return s.isPresent() ? s : null;
  }

  /** {@code "10%"}, {@code 10} or {@code "10"}: a whole percentage 0..50. */
  private static OptionalInt jitter(Node node, int dflt) {
    if (!node.exists()) {
      return OptionalInt.of(dflt);
    }
    Optional<String> text = Readers.string(node, Schema.CHECK_JITTER);
    if (text.isEmpty()) {
      return OptionalInt.empty();
    }
    Matcher m = PERCENT.matcher(text.get());
    String range = "0%.." + HealthCheckConfig.MAX_JITTER_PERCENT + "%";
    if (!m.matches()) {
      node.error(
          node.show()
              + " is not a percentage (expected "
              + Schema.CHECK_JITTER.expected()
              + ", "
              + range
              + ")");
      return OptionalInt.empty();
    }
    int n = Integer.parseInt(m.group(1).length() > 3 ? "999" : m.group(1));
    if (n > HealthCheckConfig.MAX_JITTER_PERCENT) {
      node.error(node.show() + " is out of range (expected " + range + ")");
      return OptionalInt.empty();
    }
    return OptionalInt.of(n);
  }

  /** {min, max}, or null after reporting an error. */
  private static int[] expectStatus(Node node, HealthCheckConfig d) {
    if (!node.exists()) {
      return new int[] {d.expectStatusMin(), d.expectStatusMax()};
    }
    Optional<String> text = Readers.string(node, Schema.CHECK_EXPECT_STATUS);
    if (text.isEmpty()) {
      return null;
    }
    Matcher m = STATUS_RANGE.matcher(text.get());
    if (m.matches()) {
      int min = Integer.parseInt(m.group(1));
      int max = m.group(2) == null ? min : Integer.parseInt(m.group(2));
      if (min >= 100 && max <= 599 && min <= max) {
        return new int[] {min, max};
      }
    }
    node.error(
        node.show()
            + " is not an HTTP status or range (expected "
            + Schema.CHECK_EXPECT_STATUS.expected()
            + ", statuses 100..599, low-high)");
    return null;
  }
}
