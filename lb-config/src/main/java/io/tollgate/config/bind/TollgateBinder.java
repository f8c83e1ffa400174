package io.tollgate.config.bind;

import com.typesafe.config.ConfigObject;
import io.tollgate.config.AccessLogConfig;
import io.tollgate.config.AcmeConfig;
import io.tollgate.config.CertificatesConfig;
import io.tollgate.config.DefaultRoute;
import io.tollgate.config.DnsConfig;
import io.tollgate.config.HandshakeLimits;
import io.tollgate.config.IoConfig;
import io.tollgate.config.Limits;
import io.tollgate.config.ListenerConfig;
import io.tollgate.config.OpsConfig;
import io.tollgate.config.RouteConfig;
import io.tollgate.config.TarpitLimits;
import io.tollgate.config.Timeouts;
import io.tollgate.config.TlsConfig;
import io.tollgate.config.TollgateConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * Turns the merged, resolved config tree into a {@link TollgateConfig}, reporting every problem to
 * {@link Problems}. Each section is bound even when an earlier one failed, so one run finds every
 * error; the result is present only when nothing was wrong.
 */
final class TollgateBinder {
  private TollgateBinder() {}

  /**
   * @param files resolves the relative paths the config names (certificates, keys, CAs)
   */
  static Optional<TollgateConfig> bind(
      Problems problems, ConfigObject root, String source, FileRefs files) {
    return bind(problems, root, source, files, BindMemo.NONE);
  }

  /**
   * As {@link #bind(Problems, ConfigObject, String, FileRefs)}, taking the routes and pools bound
   * before from {@code memo} (and recording this bind's in it).
   */
  static Optional<TollgateConfig> bind(
      Problems problems, ConfigObject root, String source, FileRefs files, BindMemo memo) {
    checkTopLevelTypos(problems, root);
    Node tollgate = Node.root(problems, root, Schema.ROOT);
    if (!tollgate.exists()) {
      // reference.conf always defines it; only a broken class path gets here.
      tollgate.error("missing (expected a tollgate { ... } object)");
      return Optional.empty();
    }
    if (Readers.object(tollgate, Schema.TOLLGATE, "an object holding Tollgate's settings")
        .isEmpty()) {
      return Optional.empty();
    }
    Optional<IoConfig> io = io(tollgate.child(Schema.IO.name()));
    Optional<Timeouts> timeouts = timeouts(tollgate.child(Schema.TIMEOUTS.name()));
    Optional<Limits> limits = limits(tollgate.child(Schema.LIMITS.name()));
    Node certificatesNode = tollgate.child(Schema.CERTIFICATES.name());
    Optional<CertificatesConfig> certificates =
        TlsSectionsBinder.certificates(certificatesNode, files);
    Optional<TlsConfig> tls = TlsSectionsBinder.tls(tollgate.child(Schema.TLS.name()), files);
    // Written, even if broken: a broken directory is reported once, not again by every
    // certificate = auto.
    Node acmeNode = tollgate.child(Schema.ACME.name());
    Optional<Optional<AcmeConfig>> acme = AcmeBinder.bind(acmeNode, files);
    TlsBinder tlsBinder =
        new TlsBinder(
            files, certificatesNode.child(Schema.DIRECTORY.name()).exists(), acmeNode.exists());
    PoolsBinder.Result pools =
        PoolsBinder.bind(tollgate.child(Schema.POOLS.name()), tlsBinder, memo);
    Node listenersNode = tollgate.child(Schema.LISTENERS.name());
    Optional<List<ListenerConfig>> listeners =
        ListenersBinder.bind(
            listenersNode,
            io.map(IoConfig::transport),
            n -> RoutesBinder.bindDefault(n, pools, tlsBinder));
    Optional<List<RouteConfig>> routes =
        RoutesBinder.bind(
            tollgate.child(Schema.ROUTES.name()),
            pools,
            tlsBinder,
            ListenersBinder.names(listenersNode),
            limits.map(Limits::perRoute).orElse(HandshakeLimits.NONE),
            memo);
    Optional<DefaultRoute> defaultRoute =
        RoutesBinder.bindDefault(tollgate.child(Schema.DEFAULT_ROUTE.name()), pools, tlsBinder);
    Optional<OpsConfig> ops = OpsBinder.bind(tollgate, files);
    Optional<AccessLogConfig> accessLog =
        accessLog(tollgate.child(Schema.ACCESS_LOG.name()), files);
    Optional<DnsConfig> dns = PoolDnsBinder.dns(tollgate.child(Schema.DNS.name()));
    // Read by Binding before this (its tenants are already in routes and pools): checked here.
    files.optionalDirectory(
        tollgate.child(Schema.TENANTS_DIRECTORY.name()), Schema.TENANTS_DIRECTORY);
    if (!problems.isEmpty()
        || ops.isEmpty()
        || listeners.isEmpty()
        || io.isEmpty()
        || timeouts.isEmpty()
        || limits.isEmpty()
        || certificates.isEmpty()
        || tls.isEmpty()
        || routes.isEmpty()
        || defaultRoute.isEmpty()
        || pools.pools().isEmpty()
        || accessLog.isEmpty()
        || acme.isEmpty()
        || dns.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(
        new TollgateConfig(
            listeners.get(),
            io.get(),
            timeouts.get(),
            limits.get(),
            routes.get(),
            defaultRoute.get(),
            pools.pools().get(),
            certificates.get(),
            tls.get(),
            accessLog.get(),
            source,
            problems.warnings(),
            ops.get(),
            acme.get(),
            dns.get()));
  }

  /**
   * Keys outside {@code tollgate} are allowed (files may keep values there to substitute), but one
   * spelled almost like it is surely a typo that would silently drop every setting.
   */
  private static void checkTopLevelTypos(Problems problems, ConfigObject root) {
    for (String key : root.keySet()) {
      if (!key.equals(Schema.ROOT)
          && DidYouMean.distance(key, Schema.ROOT) <= DidYouMean.MAX_DISTANCE) {
        Node.root(problems, root, key)
            .error("unknown top-level key \"" + key + "\" (did you mean \"" + Schema.ROOT + "\"?)");
      }
    }
  }

  private static Optional<IoConfig> io(Node node) {
    if (Readers.object(node, Schema.IO_SHAPE, Schema.IO.expected()).isEmpty()) {
      return Optional.empty();
    }
    Node transportNode = node.child(Schema.TRANSPORT.name());
    Node threadsNode = node.child(Schema.WORKER_THREADS.name());
    Optional<IoConfig.Transport> transport =
        Readers.required(transportNode, Schema.TRANSPORT)
            ? Readers.choice(transportNode, Schema.TRANSPORT, IoConfig.Transport.class, "transport")
            : Optional.empty();
    OptionalInt threads =
        Readers.required(threadsNode, Schema.WORKER_THREADS)
            ? Readers.intInRange(threadsNode, Schema.WORKER_THREADS, 0, Schema.MAX_WORKER_THREADS)
            : OptionalInt.empty();
    Node spliceNode = node.child(Schema.SPLICE.name());
    Optional<Boolean> splice =
        Readers.required(spliceNode, Schema.SPLICE)
            ? Readers.bool(spliceNode, Schema.SPLICE)
            : Optional.empty();
    Node acceptNode = node.child(Schema.ACCEPT.name());
    Optional<IoConfig.Accept> accept =
        Readers.required(acceptNode, Schema.ACCEPT)
            ? Readers.choice(acceptNode, Schema.ACCEPT, IoConfig.Accept.class, "accept")
            : Optional.empty();
    Node hsThreadsNode = node.child(Schema.HANDSHAKE_THREADS.name());
    OptionalInt hsThreads =
        Readers.required(hsThreadsNode, Schema.HANDSHAKE_THREADS)
            ? Readers.autoOrIntInRange(
                hsThreadsNode,
                Schema.HANDSHAKE_THREADS,
                0,
                IoConfig.MAX_HANDSHAKE_THREADS,
                IoConfig.HANDSHAKE_THREADS_AUTO)
            : OptionalInt.empty();
    Node hsPriorityNode = node.child(Schema.HANDSHAKE_PRIORITY.name());
    Optional<IoConfig.HandshakePriority> hsPriority =
        Readers.required(hsPriorityNode, Schema.HANDSHAKE_PRIORITY)
            ? Readers.choice(
                hsPriorityNode,
                Schema.HANDSHAKE_PRIORITY,
                IoConfig.HandshakePriority.class,
                "handshake priority")
            : Optional.empty();
    Node hsWhenNode = node.child(Schema.HANDSHAKE_THREADS_WHEN.name());
    Optional<IoConfig.HandshakeThreadsWhen> hsWhen =
        Readers.required(hsWhenNode, Schema.HANDSHAKE_THREADS_WHEN)
            ? Readers.choice(
                hsWhenNode,
                Schema.HANDSHAKE_THREADS_WHEN,
                IoConfig.HandshakeThreadsWhen.class,
                "handshake-threads-when")
            : Optional.empty();
    if (transport.isEmpty()
        || threads.isEmpty()
        || splice.isEmpty()
        || accept.isEmpty()
        || hsThreads.isEmpty()
        || hsPriority.isEmpty()
        || hsWhen.isEmpty()) {
      return Optional.empty();
    }
    if (splice.get()
        && (transport.get() == IoConfig.Transport.NIO
            || transport.get() == IoConfig.Transport.IO_URING)) {
      spliceNode.warn(
          "not used: splice needs the epoll transport, and io.transport = "
              + transport.get().configName()
              + " (passthrough bytes are relayed through Tollgate's memory)");
    }
    return Optional.of(
        new IoConfig(
            transport.get(),
            threads.getAsInt(),
            splice.get(),
            accept.get(),
            hsThreads.getAsInt(),
            hsPriority.get(),
            hsWhen.get()));
  }

  private static Optional<Timeouts> timeouts(Node node) {
    if (Readers.object(node, Schema.TIMEOUTS_SHAPE, Schema.TIMEOUTS.expected()).isEmpty()) {
      return Optional.empty();
    }
    Optional<Duration> clientHello = duration(node, Schema.CLIENT_HELLO);
    Optional<Duration> connect = duration(node, Schema.CONNECT);
    Optional<Duration> idle = duration(node, Schema.IDLE);
    Optional<Duration> handshake = duration(node, Schema.HANDSHAKE);
    Optional<Duration> drain = duration(node, Schema.DRAIN);
    Optional<Duration> withdraw = nonNegativeDuration(node, Schema.WITHDRAW);
    Optional<Duration> keepalive = nonNegativeDuration(node, Schema.KEEPALIVE);
    Optional<Duration> maxLifetime = nonNegativeDuration(node, Schema.MAX_LIFETIME);
    Optional<Duration> lingeringClose = duration(node, Schema.LINGERING_CLOSE);
    if (clientHello.isEmpty()
        || connect.isEmpty()
        || idle.isEmpty()
        || handshake.isEmpty()
        || drain.isEmpty()
        || withdraw.isEmpty()
        || keepalive.isEmpty()
        || maxLifetime.isEmpty()
        || lingeringClose.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(
        new Timeouts(
            clientHello.get(),
            connect.get(),
            idle.get(),
            handshake.get(),
            drain.get(),
            withdraw.get(),
            keepalive.get(),
            maxLifetime.get(),
            lingeringClose.get()));
  }

  private static Optional<Duration> nonNegativeDuration(Node parent, Schema.Key key) {
    Node node = parent.child(key.name());
    return Readers.required(node, key) ? Readers.nonNegativeDuration(node, key) : Optional.empty();
  }

  private static Optional<Duration> duration(Node parent, Schema.Key key) {
    Node node = parent.child(key.name());
    return Readers.required(node, key) ? Readers.positiveDuration(node, key) : Optional.empty();
  }

  private static Optional<Limits> limits(Node node) {
    if (Readers.object(node, Schema.LIMITS_SHAPE, Schema.LIMITS.expected()).isEmpty()) {
      return Optional.empty();
    }
    Node hello = node.child(Schema.MAX_CLIENT_HELLO.name());
    OptionalLong bytes =
        Readers.required(hello, Schema.MAX_CLIENT_HELLO)
            ? Readers.bytesInRange(
                hello,
                Schema.MAX_CLIENT_HELLO,
                Limits.MIN_CLIENT_HELLO,
                Limits.MAX_CLIENT_HELLO,
                "1k..64k, i.e. "
                    + Limits.MIN_CLIENT_HELLO
                    + ".."
                    + Limits.MAX_CLIENT_HELLO
                    + " bytes")
            : OptionalLong.empty();
    OptionalInt max = requiredInt(node, Schema.CONNECTION_LIMIT, Limits.MAX_MAX_CONNECTIONS);
    Node perSource = node.child(Schema.PER_SOURCE.name());
    OptionalInt sourceMax = OptionalInt.empty();
    OptionalInt sourceRate = OptionalInt.empty();
    OptionalInt ipv6Prefix = OptionalInt.empty();
    if (Readers.required(perSource, Schema.PER_SOURCE)
        && Readers.object(perSource, Schema.PER_SOURCE_SHAPE, Schema.PER_SOURCE.expected())
            .isPresent()) {
      sourceMax = requiredInt(perSource, Schema.CONNECTION_LIMIT, Limits.MAX_MAX_CONNECTIONS);
      sourceRate = requiredInt(perSource, Schema.NEW_PER_SECOND, Limits.MAX_NEW_PER_SECOND);
      Node prefix = perSource.child(Schema.IPV6_PREFIX.name());
      ipv6Prefix =
          Readers.required(prefix, Schema.IPV6_PREFIX)
              ? Readers.intInRange(prefix, Schema.IPV6_PREFIX, 1, 128)
              : OptionalInt.empty();
    }
    Optional<HandshakeLimits> perRoute =
        HandshakeLimitsBinder.defaults(node.child(Schema.PER_ROUTE.name()));
    Optional<TarpitLimits> tarpit = tarpit(node.child(Schema.TARPIT.name()));
    Node shareNode = node.child(Schema.HANDSHAKE_SHARE_PERCENT.name());
    OptionalInt share =
        Readers.required(shareNode, Schema.HANDSHAKE_SHARE_PERCENT)
            ? Readers.intInRange(shareNode, Schema.HANDSHAKE_SHARE_PERCENT, 10, 100)
            : OptionalInt.empty();
    OptionalLong receiveBuffer = receiveBuffer(node.child(Schema.RECEIVE_BUFFER.name()));
    if (share.isEmpty()
        || receiveBuffer.isEmpty()
        || bytes.isEmpty()
        || max.isEmpty()
        || sourceMax.isEmpty()
        || sourceRate.isEmpty()
        || ipv6Prefix.isEmpty()
        || perRoute.isEmpty()
        || tarpit.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(
        new Limits(
            (int) bytes.getAsLong(),
            max.getAsInt(),
            sourceMax.getAsInt(),
            sourceRate.getAsInt(),
            ipv6Prefix.getAsInt(),
            perRoute.get(),
            tarpit.get(),
            share.getAsInt(),
            (int) receiveBuffer.getAsLong()));
  }

  /** {@code limits.receive-buffer}: 0, or {@link Limits#MIN_RECEIVE_BUFFER}..max bytes. */
  private static OptionalLong receiveBuffer(Node node) {
    if (!Readers.required(node, Schema.RECEIVE_BUFFER)) {
      return OptionalLong.empty();
    }
    OptionalLong bytes =
        Readers.bytesInRange(
            node,
            Schema.RECEIVE_BUFFER,
            0,
            Limits.MAX_RECEIVE_BUFFER,
            "0 or 4k..64m, i.e. 0 or "
                + Limits.MIN_RECEIVE_BUFFER
                + ".."
                + Limits.MAX_RECEIVE_BUFFER
                + " bytes");
    if (bytes.isPresent()
        && bytes.getAsLong() != 0
        && bytes.getAsLong() < Limits.MIN_RECEIVE_BUFFER) {
      node.error(
          "receive-buffer of "
              + bytes.getAsLong()
              + " bytes is too small for TCP: 0 (the kernel's autotuning) or at least 4k");
      return OptionalLong.empty();
    }
    long cap = rmemMax();
    if (bytes.isPresent() && cap > 0 && bytes.getAsLong() > cap) {
      node.warn(
          "the kernel caps receive-buffer at net.core.rmem_max, "
              + cap
              + " bytes on this machine, not "
              + bytes.getAsLong()
              + ": raise that sysctl for a larger buffer");
    }
    return bytes;
  }

  /** net.core.rmem_max, the most SO_RCVBUF the kernel accepts; 0 when it cannot be read. */
  private static long rmemMax() {
    Path file = Path.of("/proc/sys/net/core/rmem_max");
    try {
      // Not readString: it trusts the size procfs reports (0) and read one byte.
      return Files.isReadable(file) ? Long.parseLong(Files.readAllLines(file).get(0).trim()) : 0;
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  /**
   * {@code limits.tarpit { delay, max-held, max-held-per-route }}, all required (reference.conf).
   */
  private static Optional<TarpitLimits> tarpit(Node node) {
    if (!Readers.required(node, Schema.TARPIT)
        || Readers.object(node, Schema.TARPIT_SHAPE, Schema.TARPIT.expected()).isEmpty()) {
      return Optional.empty();
    }
    Node delayNode = node.child(Schema.TARPIT_DELAY.name());
    Optional<Duration> delay =
        Readers.required(delayNode, Schema.TARPIT_DELAY)
            ? Readers.nonNegativeDuration(delayNode, Schema.TARPIT_DELAY)
            : Optional.empty();
    if (delay.isPresent() && delay.get().compareTo(TarpitLimits.MAX_DELAY) > 0) {
      delayNode.error(
          delayNode.show() + " is too long (expected " + Schema.TARPIT_DELAY.expected() + ")");
      delay = Optional.empty();
    }
    OptionalInt maxHeld = requiredInt(node, Schema.MAX_HELD, Limits.MAX_MAX_CONNECTIONS);
    OptionalInt perRoute = requiredInt(node, Schema.MAX_HELD_PER_ROUTE, Limits.MAX_MAX_CONNECTIONS);
    if (delay.isEmpty() || maxHeld.isEmpty() || perRoute.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(new TarpitLimits(delay.get(), maxHeld.getAsInt(), perRoute.getAsInt()));
  }

  private static OptionalInt requiredInt(Node parent, Schema.Key key, int max) {
    Node node = parent.child(key.name());
    return Readers.required(node, key)
        ? Readers.intInRange(node, key, 0, max)
        : OptionalInt.empty();
  }

  /** {@code access-log { path = off | stdout | stderr | FILE }}. */
  private static Optional<AccessLogConfig> accessLog(Node node, FileRefs files) {
    if (Readers.object(node, Schema.ACCESS_LOG_SHAPE, Schema.ACCESS_LOG.expected()).isEmpty()) {
      return Optional.empty();
    }
    Node path = node.child(Schema.ACCESS_LOG_PATH.name());
    if (!Readers.required(path, Schema.ACCESS_LOG_PATH)) {
      return Optional.empty();
    }
    Optional<String> text = Readers.string(path, Schema.ACCESS_LOG_PATH);
    if (text.isEmpty()) {
      return Optional.empty();
    }
    switch (text.get().trim().toLowerCase(java.util.Locale.ROOT)) {
      case "off":
      case "false":
        return Optional.of(AccessLogConfig.OFF);
      case "stdout":
        return Optional.of(new AccessLogConfig(AccessLogConfig.Target.STDOUT, Optional.empty()));
      case "stderr":
        return Optional.of(new AccessLogConfig(AccessLogConfig.Target.STDERR, Optional.empty()));
      default:
        return files.writableFile(path, Schema.ACCESS_LOG_PATH).map(AccessLogConfig::toFile);
    }
  }
}
