package io.tollgate.admin;

import io.netty.util.NetUtil;
import io.tollgate.Tollgate;
import io.tollgate.config.DefaultRoute;
import io.tollgate.config.PoolConfig;
import io.tollgate.config.RouteConfig;
import io.tollgate.config.TollgateConfig;
import io.tollgate.ops.Reloader;
import io.tollgate.pool.Backend;
import io.tollgate.pool.Pool;
import io.tollgate.snapshot.PoolServers;
import io.tollgate.snapshot.Snapshot;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The document {@code GET /status} returns: what is running now, as maps for {@link Json}. */
final class Status {
  private Status() {}

  static Map<String, Object> of(Tollgate tollgate, Reloader reloader) {
    Snapshot snapshot = tollgate.snapshot();
    TollgateConfig config = snapshot.config();
    Map<String, Object> out = new LinkedHashMap<>();
    Map<String, Object> cfg = new LinkedHashMap<>();
    cfg.put("source", config.source());
    cfg.put("version", tollgate.configVersion());
    cfg.put("loaded_at", tollgate.configLoadedAt().toString());
    if (reloader != null) {
      cfg.put("reloads_ok", reloader.succeeded());
      cfg.put("reloads_failed", reloader.failed());
      cfg.put("last_reload_errors", reloader.lastErrors());
    }
    cfg.put("warnings", snapshot.warnings().stream().map(Object::toString).toList());
    out.put("config", cfg);
    out.put("shutting_down", tollgate.isShuttingDown());
    out.put("ready", tollgate.readiness().isReady());
    out.put("transport", tollgate.transportName());
    Map<String, Object> conns = new LinkedHashMap<>();
    conns.put("active", tollgate.openConnections());
    conns.put("accepted", tollgate.metrics().acceptedCount());
    out.put("connections", conns);

    List<Object> listeners = new ArrayList<>();
    for (Map.Entry<String, InetSocketAddress> e : tollgate.addresses().entrySet()) {
      Map<String, Object> l = new LinkedHashMap<>();
      l.put("name", e.getKey());
      l.put("address", hostPort(e.getValue()));
      listeners.add(l);
    }
    out.put("listeners", listeners);

    List<Object> routes = new ArrayList<>();
    for (RouteConfig rc : config.routes()) {
      Map<String, Object> r = new LinkedHashMap<>();
      r.put("name", rc.name());
      r.put("hosts", rc.hosts());
      r.put("mode", label(rc.mode()));
      r.put("pool", rc.pool());
      if (!rc.listeners().isEmpty()) {
        r.put("listeners", rc.listeners());
      }
      routes.add(r);
    }
    out.put("routes", routes);
    DefaultRoute dr = config.defaultRoute();
    out.put(
        "default_route",
        dr.reject() ? "reject" : Map.of("pool", dr.pool(), "mode", label(dr.mode())));

    Map<String, Object> pools = new TreeMap<>();
    for (PoolConfig pc : config.pools().values()) {
      Pool pool = snapshot.pools().get(pc.name());
      Map<String, Object> p = new LinkedHashMap<>();
      p.put("balance", label(pc.balance().algorithm()));
      pc.source().ifPresent(source -> p.put("source", source.getHostAddress()));
      List<Object> servers = new ArrayList<>();
      for (Backend b : pool.servers()) {
        servers.add(server(b));
      }
      p.put("servers", servers);
      PoolServers ps = snapshot.poolServers(pc.name());
      if (ps != null) {
        p.put("changed_at_run_time", ps.changedAtRunTime());
        if (ps.followsDns()) {
          p.put("dns", dns(pc, ps));
        }
      }
      pools.put(pc.name(), p);
    }
    out.put("pools", pools);
    // Issue 12: each certificate = acme route's names, state and next renewal.
    out.put("acme", tollgate.acme().status());
    return out;
  }

  /** A DNS-aware pool's lookups: each name's last outcome, and whether it serves old answers. */
  private static Map<String, Object> dns(PoolConfig pc, PoolServers ps) {
    Map<String, Object> d = new LinkedHashMap<>();
    d.put("resolve_every", pc.dns().resolveEvery().toString());
    pc.dns().srv().ifPresent(srv -> d.put("srv", srv));
    d.put("stale", ps.stale());
    List<Object> names = new ArrayList<>();
    for (PoolServers.NameStatus n : ps.dnsStatus()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("name", n.name());
      m.put("type", n.type());
      m.put("ok", n.ok());
      m.put("addresses", n.addresses().stream().map(a -> NetUtil.toAddressString(a)).toList());
      m.put("last_error", n.lastError());
      m.put("last_success", n.lastSuccess() == null ? null : n.lastSuccess().toString());
      m.put("last_attempt", n.lastAttempt() == null ? null : n.lastAttempt().toString());
      names.add(m);
    }
    d.put("names", names);
    return d;
  }

  /** One server as {@code /status} and the server API show it. */
  static Map<String, Object> server(Backend b) {
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("address", b.configured().toString());
    s.put("resolved", hostPort(b.address()));
    s.put("weight", b.weight());
    s.put("max_connections", b.maxConnections());
    s.put("health", b.state().isUp() ? "up" : "down");
    s.put("health_reason", b.state().reason());
    s.put("draining", b.state().isDraining());
    s.put("active_connections", b.state().activeConnections());
    s.put("backup", b.backup());
    return s;
  }

  /** A pool's servers now, as {@link #server} shows each. */
  static List<Object> servers(PoolServers ps) {
    List<Object> out = new ArrayList<>();
    ps.servers().forEach(b -> out.add(server(b)));
    return out;
  }

  static String hostPort(InetSocketAddress a) {
    String host = a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
    return host.indexOf(':') >= 0 ? "[" + host + "]:" + a.getPort() : host + ":" + a.getPort();
  }

  private static String label(Enum<?> e) {
    return e.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
  }
}
