package io.tollgate.admin;

import io.tollgate.Tollgate;
import io.tollgate.ops.Reloader;
import io.tollgate.pool.Backend;
import io.tollgate.pool.Pool;
import io.tollgate.upgrade.Upgrader;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What each admin path does, for a request {@link AdminAccess} has let through.
 *
 * <p>Paths are compared as plain strings: a query is ignored, trailing slashes are dropped, and the
 * drain/enable path is split at each {@code /} before its segments are percent-decoded (strict
 * UTF-8; {@code +} stays a plus; {@code %2F} is a slash inside a segment). The pool name must then
 * equal a configured name exactly: no case folding, no prefix. Server addresses compare without
 * case, as host names and IPv6 digits do.
 */
final class AdminEndpoints {
  private static final Logger log = LoggerFactory.getLogger(AdminEndpoints.class);

  private final Tollgate tollgate;
  private final Reloader reloader;
  private final Upgrader upgrader;

  /**
   * @param reloader what {@code POST /reload} runs; null answers it with 501
   * @param upgrader what {@code POST /upgrade} runs; null answers it with 501
   */
  AdminEndpoints(Tollgate tollgate, Reloader reloader, Upgrader upgrader) {
    this.tollgate = tollgate;
    this.reloader = reloader;
    this.upgrader = upgrader;
  }

  /**
   * {@code GET /ready} and {@code GET /live} (HEAD too), the probes a load balancer, router or
   * orchestrator polls; empty for any other path. Answered without {@link AdminAccess}'s checks,
   * since such probes can send neither a token nor a custom header (as HAProxy's {@code
   * monitor-uri}, Envoy's {@code /ready} and Traefik's {@code /ping} need none), so they say
   * nothing but the state: {@code {"ready":true}} with 200, {@code {"ready":false}} with 503 once a
   * stop or an upgrade has begun; {@code {"live":true}} with 200 for as long as the endpoint runs.
   * They read one volatile field, so they are answered on the admin event loop and never wait
   * behind a reload on the admin threads.
   */
  Optional<AdminResponse> probe(AdminRequest r) {
    String path = path(r.target());
    if (!"/ready".equals(path) && !"/live".equals(path)) {
      return Optional.empty();
    }
    if (!r.isRead()) {
      return Optional.of(notAllowed(r, "GET"));
    }
    if (path.equals("/live")) {
      return Optional.of(AdminResponse.json(200, Map.of("live", true)));
    }
    boolean ready = tollgate.readiness().isReady();
    return Optional.of(AdminResponse.json(ready ? 200 : 503, Map.of("ready", ready)));
  }

  /** The target's path without query and trailing slashes; null when it is not a path. */
  private static String path(String target) {
    if (!target.startsWith("/")) {
      return null;
    }
    int query = target.indexOf('?');
    String path = query < 0 ? target : target.substring(0, query);
    int end = path.length();
    while (end > 1 && path.charAt(end - 1) == '/') {
      end--;
    }
    return path.substring(0, end);
  }

  AdminResponse route(AdminRequest r) {
    String path = path(r.target());
    if (path == null) {
      return AdminResponse.error(400, "the request target must be a path such as /status");
    }
    boolean get = r.isRead();
    boolean post = r.method().equals("POST");
    switch (path) {
      case "/status":
        return get ? AdminResponse.json(200, Status.of(tollgate, reloader)) : notAllowed(r, "GET");
      case "/metrics":
        return get
            ? AdminResponse.text(200, AdminResponse.PROMETHEUS, tollgate.metrics().scrape())
            : notAllowed(r, "GET");
      case "/reload":
        return post ? reload() : notAllowed(r, "POST");
      case "/upgrade":
        return post ? upgrade() : notAllowed(r, "POST");
      default:
        break;
    }
    List<String> seg = segments(path);
    Optional<AdminResponse> servers = PoolServerEndpoints.route(tollgate, r, path, seg);
    if (servers.isPresent()) {
      return servers.get();
    }
    // /pools/{pool}/servers/{address}/{drain|enable}
    if (seg.size() == 6
        && seg.get(0).isEmpty()
        && seg.get(1).equals("pools")
        && seg.get(3).equals("servers")
        && (seg.get(5).equals("drain") || seg.get(5).equals("enable"))) {
      if (!post) {
        return notAllowed(r, "POST");
      }
      Optional<String> pool = decode(seg.get(2));
      Optional<String> server = decode(seg.get(4));
      if (pool.isEmpty() || server.isEmpty()) {
        return AdminResponse.error(
            400,
            "bad percent-encoding in "
                + path
                + " (each %XX is one"
                + " byte; together they must be UTF-8)");
      }
      return drain(pool.get(), server.get(), seg.get(5).equals("drain"));
    }
    return AdminResponse.error(
        404,
        "no such endpoint: "
            + path
            + " (GET /status, GET /metrics, GET /ready, GET /live, POST /reload, POST /upgrade,"
            + " POST /pools/{pool}/servers/{address}/drain or /enable, POST /pools/{pool}/servers,"
            + " DELETE /pools/{pool}/servers/{address}, PUT /pools/{pool}/servers/{address}/weight)");
  }

  static AdminResponse notAllowed(AdminRequest r, String allowed) {
    return AdminResponse.error(405, r.method() + " is not allowed here (use " + allowed + ")")
        .withHeader("Allow", allowed);
  }

  private AdminResponse reload() {
    if (reloader == null) {
      return AdminResponse.error(501, "this Tollgate was not started from a config file");
    }
    Reloader.Result result = reloader.reload("POST /reload");
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("ok", result.ok());
    doc.put("version", result.version());
    doc.put("errors", result.errors());
    return AdminResponse.json(result.ok() ? 200 : 422, doc);
  }

  /**
   * 200 once the new process accepts (this one then drains and exits), 501 where an upgrade is not
   * possible (NIO, or not started by {@code run}), 500 with the new process's errors otherwise.
   */
  private AdminResponse upgrade() {
    if (upgrader == null) {
      return AdminResponse.error(
          501, "this Tollgate cannot be upgraded in place (not started by `tollgate run`)");
    }
    if (!tollgate.transportName().equals("epoll")) {
      return AdminResponse.error(
          501,
          "upgrade needs the epoll transport (Linux); this process runs "
              + tollgate.transportName()
              + ": restart it instead");
    }
    Upgrader.Result result = upgrader.upgrade("POST /upgrade");
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("ok", result.ok());
    doc.put("old_pid", result.oldPid());
    doc.put("new_pid", result.newPid());
    doc.put("errors", result.errors());
    return AdminResponse.json(result.ok() ? 200 : 500, doc);
  }

  private AdminResponse drain(String poolName, String server, boolean on) {
    Pool pool = tollgate.snapshot().pools().get(poolName);
    if (pool == null) {
      return AdminResponse.error(
          404,
          "no pool named \""
              + poolName
              + "\" (names match exactly;"
              + " pools: "
              + tollgate.snapshot().pools().keySet().stream().sorted().toList()
              + ")");
    }
    Optional<Backend> backend =
        pool.servers().stream()
            .filter(
                b ->
                    b.configured().toString().equalsIgnoreCase(server)
                        || Status.hostPort(b.address()).equalsIgnoreCase(server))
            .findFirst();
    if (backend.isEmpty()) {
      return AdminResponse.error(
          404,
          "pool \""
              + poolName
              + "\" has no server \""
              + server
              + "\" (servers: "
              + pool.servers().stream().map(b -> b.configured().toString()).toList()
              + ")");
    }
    tollgate.drain(poolName, backend.get().address(), on);
    log.info(
        "admin: pool {} server {} {}",
        poolName,
        backend.get().configured(),
        on ? "draining (no new connections)" : "enabled");
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("pool", poolName);
    doc.put("server", backend.get().configured().toString());
    doc.put("draining", backend.get().state().isDraining());
    doc.put("active_connections", backend.get().state().activeConnections());
    return AdminResponse.json(200, doc);
  }

  /** The path split at every {@code /}, empty segments kept. */
  static List<String> segments(String path) {
    List<String> out = new ArrayList<>();
    int start = 0;
    for (int i = 0; i <= path.length(); i++) {
      if (i == path.length() || path.charAt(i) == '/') {
        out.add(path.substring(start, i));
        start = i + 1;
      }
    }
    return out;
  }

  /**
   * One path segment percent-decoded: {@code %XX} is the byte XX, any other character is itself
   * (the codec hands over raw bytes as chars 0-255), and the bytes must be UTF-8. Empty when a
   * {@code %} is not followed by two hex digits or the bytes are not UTF-8.
   */
  static Optional<String> decode(String segment) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(segment.length());
    for (int i = 0; i < segment.length(); i++) {
      char c = segment.charAt(i);
      if (c == '%') {
        if (i + 2 >= segment.length()) {
          return Optional.empty();
        }
        int hi = hex(segment.charAt(i + 1));
        int lo = hex(segment.charAt(i + 2));
        if (hi < 0 || lo < 0) {
          return Optional.empty();
        }
        bytes.write(hi << 4 | lo);
        i += 2;
      } else {
        bytes.write(c & 0xff);
      }
    }
    try {
      return Optional.of(
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(bytes.toByteArray()))
              .toString());
    } catch (CharacterCodingException e) {
      return Optional.empty();
    }
  }

  private static int hex(char c) {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
      return c - 'a' + 10;
    }
    return c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
  }
}
