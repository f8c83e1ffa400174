package io.tollgate.admin;

import io.tollgate.Tollgate;
import io.tollgate.config.DefaultRoute;
import io.tollgate.config.PoolConfig;
import io.tollgate.config.RouteConfig;
import io.tollgate.config.TollgateConfig;
import io.tollgate.ops.Reloader;
import io.tollgate.pool.Backend;
import io.tollgate.pool.Pool;
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
        servers.add(s);
      }
      p.put("servers", servers);
      pools.put(pc.name(), p);
    }
    out.put("pools", pools);
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
