package io.tollgate.admin;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.tollgate.Tollgate;
import io.tollgate.config.AdminConfig;
import io.tollgate.json.Json;
import io.tollgate.ops.Reloader;
import io.tollgate.pool.Backend;
import io.tollgate.pool.Pool;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin endpoint ({@code tollgate.admin}): HTTP/1.1 for operators and scrapers.
 *
 * <pre>
 * GET  /status                                   JSON: config version, listeners, routes, pools,
 *                                                each server's health, drain and connections
 * GET  /metrics                                  Prometheus text format 0.0.4
 * POST /reload                                   re-read the config file; 200, or 422 + errors
 * POST /pools/{pool}/servers/{address}/drain     no new connections to that server
 * POST /pools/{pool}/servers/{address}/enable    take it out of drain
 * </pre>
 *
 * <p>With a {@code token-file}, every POST needs {@code Authorization: Bearer <token>} (401
 * otherwise); the file is read at each such request, so the token can be rotated by rewriting
 * it. GETs are open to whoever can reach the address.
 *
 * <p>Built on the JDK's {@code com.sun.net.httpserver} rather than a Netty pipeline: a handful of
 * requests a minute need no event loop, it keeps admin traffic off the data path's loops and
 * threads, needs no dependency and holds no pooled buffers that could leak.
 */
public final class AdminServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AdminServer.class);
  static final String JSON = "application/json; charset=utf-8";
  static final String PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8";
  private static final int MAX_BODY = 64 * 1024;

  private final Tollgate tollgate;
  private final Reloader reloader;
  private final Optional<Path> tokenFile;
  private final HttpServer server;
  private final ExecutorService executor;

  private AdminServer(Tollgate tollgate, Reloader reloader, Optional<Path> tokenFile,
      HttpServer server, ExecutorService executor) {
    this.tollgate = tollgate;
    this.reloader = reloader;
    this.tokenFile = tokenFile;
    this.server = server;
    this.executor = executor;
  }

  /**
   * Binds the endpoint and starts serving.
   *
   * @param reloader what {@code POST /reload} runs; null answers it with 501 (no config file)
   * @throws IllegalStateException when the address cannot be bound or the token file is empty
   */
  public static AdminServer start(AdminConfig config, Tollgate tollgate, Reloader reloader) {
    config.tokenFile().ifPresent(AdminServer::readToken);
    InetSocketAddress address =
        new InetSocketAddress(config.address().host(), config.address().port());
    HttpServer http;
    try {
      http = HttpServer.create(address, 16);
    } catch (IOException e) {
      throw new IllegalStateException("admin: cannot bind " + config.address() + ": "
          + e.getMessage(), e);
    }
    AtomicInteger n = new AtomicInteger();
    ExecutorService executor = Executors.newFixedThreadPool(2, r -> {
      Thread t = new Thread(r, "tollgate-admin-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    AdminServer admin = new AdminServer(tollgate, reloader, config.tokenFile(), http, executor);
    http.createContext("/", admin::handle);
    http.setExecutor(executor);
    http.start();
    log.info("Admin endpoint on http://{}/ ({})", Status.hostPort(admin.address()),
        config.tokenFile().isPresent() ? "POST requests need the bearer token from "
            + config.tokenFile().get() : "no token: POST requests are open to local users");
    return admin;
  }

  public InetSocketAddress address() {
    return server.getAddress();
  }

  /**
   * The token in {@code file}, surrounding whitespace removed: what this endpoint expects and what
   * {@code tollgate reload} sends.
   *
   * @throws IllegalStateException when the file cannot be read or is empty
   */
  public static String readToken(Path file) {
    String token;
    try {
      token = Files.readString(file, StandardCharsets.UTF_8).strip();
    } catch (IOException e) {
      throw new IllegalStateException("admin: cannot read token-file " + file + ": " + e, e);
    }
    if (token.isEmpty()) {
      throw new IllegalStateException("admin: token-file " + file + " is empty (expected one"
          + " line with the token, e.g. from `openssl rand -hex 32`)");
    }
    return token;
  }

  private record Response(int status, String contentType, String body) {
    static Response json(int status, Object doc) {
      return new Response(status, JSON, Json.write(doc) + "\n");
    }

    static Response error(int status, String message) {
      return json(status, Map.of("error", message));
    }
  }

  private void handle(HttpExchange ex) throws IOException {
    Response r;
    try {
      if (!drainBody(ex.getRequestBody())) {
        r = Response.error(413, "request body too large");
      } else {
        r = route(ex);
      }
    } catch (RuntimeException e) {
      log.error("admin: {} {} failed", ex.getRequestMethod(), ex.getRequestURI(), e);
      r = Response.error(500, "internal error: " + e);
    }
    byte[] body = r.body().getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", r.contentType());
    ex.getResponseHeaders().set("Cache-Control", "no-store");
    if (r.status() == 401) {
      ex.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"tollgate\"");
    }
    boolean head = ex.getRequestMethod().equals("HEAD");
    ex.sendResponseHeaders(r.status(), head ? -1 : body.length);
    if (!head) {
      try (OutputStream out = ex.getResponseBody()) {
        out.write(body);
      }
    }
    ex.close();
  }

  /** Reads and drops the request body (none is used); false if it is larger than allowed. */
  private static boolean drainBody(InputStream in) throws IOException {
    byte[] buf = new byte[8192];
    long total = 0;
    for (int n; (n = in.read(buf)) >= 0; ) {
      total += n;
      if (total > MAX_BODY) {
        return false;
      }
    }
    return true;
  }

  private Response route(HttpExchange ex) {
    String method = ex.getRequestMethod();
    String path = ex.getRequestURI().getRawPath();
    String[] seg = path.replaceAll("/+$", "").split("/");
    boolean get = method.equals("GET") || method.equals("HEAD");
    boolean post = method.equals("POST");
    switch (path.replaceAll("/+$", "")) {
      case "/status":
        return get ? Response.json(200, Status.of(tollgate, reloader)) : notAllowed(ex, "GET");
      case "/metrics":
        return get ? new Response(200, PROMETHEUS, tollgate.metrics().scrape())
            : notAllowed(ex, "GET");
      case "/reload":
        if (!post) {
          return notAllowed(ex, "POST");
        }
        return authorized(ex).orElseGet(this::reload);
      default:
        break;
    }
    // /pools/{pool}/servers/{address}/{drain|enable}
    if (seg.length == 6 && seg[0].isEmpty() && seg[1].equals("pools")
        && seg[3].equals("servers") && (seg[5].equals("drain") || seg[5].equals("enable"))) {
      if (!post) {
        return notAllowed(ex, "POST");
      }
      return authorized(ex).orElseGet(
          () -> drain(decode(seg[2]), decode(seg[4]), seg[5].equals("drain")));
    }
    return Response.error(404, "no such endpoint: " + path + " (GET /status, GET /metrics,"
        + " POST /reload, POST /pools/{pool}/servers/{address}/drain or /enable)");
  }

  private static Response notAllowed(HttpExchange ex, String allowed) {
    ex.getResponseHeaders().set("Allow", allowed);
    return Response.error(405, ex.getRequestMethod() + " is not allowed here (use " + allowed
        + ")");
  }

  /** Empty when the request may mutate; else the refusal. */
  private Optional<Response> authorized(HttpExchange ex) {
    if (tokenFile.isEmpty()) {
      return Optional.empty();
    }
    String expected;
    try {
      expected = readToken(tokenFile.get());
    } catch (IllegalStateException e) {
      log.error("{}", e.getMessage());
      return Optional.of(Response.error(503, "the token file cannot be read; refusing"));
    }
    String header = ex.getRequestHeaders().getFirst("Authorization");
    String given = header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)
        ? header.substring(7).strip() : "";
    // Constant time: the comparison must not tell how many leading characters were right.
    boolean ok = MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8),
        expected.getBytes(StandardCharsets.UTF_8));
    if (!ok) {
      log.warn("admin: {} {} from {} refused: {}", ex.getRequestMethod(),
          ex.getRequestURI().getRawPath(), ex.getRemoteAddress(),
          header == null ? "no Authorization header" : "wrong token");
      return Optional.of(Response.error(401, header == null
          ? "this request needs \"Authorization: Bearer <token>\" (the token is in the admin"
              + " token-file)"
          : "wrong token"));
    }
    return Optional.empty();
  }

  private Response reload() {
    if (reloader == null) {
      return Response.error(501, "this Tollgate was not started from a config file");
    }
    Reloader.Result result = reloader.reload("POST /reload");
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("ok", result.ok());
    doc.put("version", result.version());
    doc.put("errors", result.errors());
    return Response.json(result.ok() ? 200 : 422, doc);
  }

  private Response drain(String poolName, String server, boolean on) {
    Pool pool = tollgate.snapshot().pools().get(poolName);
    if (pool == null) {
      return Response.error(404, "no pool named \"" + poolName + "\"");
    }
    Optional<Backend> backend = pool.servers().stream()
        .filter(b -> b.configured().toString().equalsIgnoreCase(server)
            || Status.hostPort(b.address()).equalsIgnoreCase(server))
        .findFirst();
    if (backend.isEmpty()) {
      return Response.error(404, "pool \"" + poolName + "\" has no server \"" + server
          + "\" (servers: " + pool.servers().stream().map(b -> b.configured().toString())
          .toList() + ")");
    }
    tollgate.drain(poolName, backend.get().address(), on);
    log.info("admin: pool {} server {} {}", poolName, backend.get().configured(),
        on ? "draining (no new connections)" : "enabled");
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("pool", poolName);
    doc.put("server", backend.get().configured().toString());
    doc.put("draining", backend.get().state().isDraining());
    doc.put("active_connections", backend.get().state().activeConnections());
    return Response.json(200, doc);
  }

  private static String decode(String segment) {
    return URLDecoder.decode(segment.replace("+", "%2B"), StandardCharsets.UTF_8)
        .toLowerCase(Locale.ROOT);
  }

  /** Stops at once; a request being served gets at most a second to finish. */
  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
    try {
      executor.awaitTermination(1, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
