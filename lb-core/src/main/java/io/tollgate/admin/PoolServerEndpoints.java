package io.tollgate.admin;

import io.tollgate.Tollgate;
import io.tollgate.json.FlatJson;
import io.tollgate.snapshot.PoolServers;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The run-time server API: {@code POST /pools/{p}/servers} (body {@code {"address": "ip:port",
 * "weight": N}}), {@code DELETE /pools/{p}/servers/{address}} and {@code PUT
 * /pools/{p}/servers/{address}/weight} (body {@code {"weight": N}}). Changes go to the pool's
 * {@link PoolServers} and last until the next reload: they are written nowhere, so a reload (or a
 * restart) returns to the file. Access is checked before (token or loopback and CSRF header), as
 * for every mutating endpoint.
 */
final class PoolServerEndpoints {
  private static final Logger log = LoggerFactory.getLogger(PoolServerEndpoints.class);

  private PoolServerEndpoints() {}

  /** Empty when the path is not one of these endpoints. */
  static Optional<AdminResponse> route(
      Tollgate tollgate, AdminRequest r, String path, List<String> seg) {
    boolean collection = seg.size() == 4;
    boolean one = seg.size() == 5;
    boolean weight = seg.size() == 6 && seg.get(5).equals("weight");
    if (!(collection || one || weight)
        || !seg.get(0).isEmpty()
        || !seg.get(1).equals("pools")
        || !seg.get(3).equals("servers")) {
      return Optional.empty();
    }
    if (collection && !r.method().equals("POST")) {
      return Optional.of(AdminEndpoints.notAllowed(r, "POST"));
    }
    if (one && !r.method().equals("DELETE")) {
      return Optional.of(AdminEndpoints.notAllowed(r, "DELETE"));
    }
    if (weight && !r.method().equals("PUT")) {
      return Optional.of(AdminEndpoints.notAllowed(r, "PUT"));
    }
    Optional<String> poolName = AdminEndpoints.decode(seg.get(2));
    Optional<String> server = collection ? Optional.of("") : AdminEndpoints.decode(seg.get(4));
    if (poolName.isEmpty() || server.isEmpty()) {
      return Optional.of(
          AdminResponse.error(
              400, "bad percent-encoding in " + path + " (each %XX is one byte; UTF-8 in all)"));
    }
    PoolServers ps = tollgate.snapshot().poolServers(poolName.get());
    if (ps == null) {
      return Optional.of(
          AdminResponse.error(
              404,
              "no pool named \""
                  + poolName.get()
                  + "\" (names match exactly; pools: "
                  + tollgate.snapshot().pools().keySet().stream().sorted().toList()
                  + ")"));
    }
    try {
      if (collection) {
        Map<String, Object> body = body(r, Set.of("address", "weight", "backup"));
        String address = text(body, "address", true);
        int w = weight(body, false);
        Object backup = body.getOrDefault("backup", Boolean.FALSE);
        if (!(backup instanceof Boolean)) {
          return Optional.of(AdminResponse.error(400, "\"backup\" must be true or false"));
        }
        ps.add(address, w, (Boolean) backup);
        log.info(
            "admin: pool {}: added server {} (weight {}) until the next reload",
            ps.name(),
            address,
            w);
        return Optional.of(answer(201, ps, address, "added"));
      }
      if (one) {
        ps.remove(server.get());
        log.info(
            "admin: pool {}: removed server {} until the next reload", ps.name(), server.get());
        return Optional.of(answer(200, ps, server.get(), "removed"));
      }
      int w = weight(body(r, Set.of("weight")), true);
      ps.weight(server.get(), w);
      log.info(
          "admin: pool {}: server {} weight {} until the next reload", ps.name(), server.get(), w);
      return Optional.of(answer(200, ps, server.get(), "weight " + w));
    } catch (PoolServers.Refused e) {
      return Optional.of(AdminResponse.error(e.status(), e.getMessage()));
    } catch (IllegalArgumentException e) {
      return Optional.of(AdminResponse.error(400, e.getMessage()));
    }
  }

  private static Map<String, Object> body(AdminRequest r, Set<String> allowed) {
    if (r.body().isBlank()) {
      throw new IllegalArgumentException(
          "this request needs a JSON body, e.g. "
              + (allowed.contains("address")
                  ? "{\"address\": \"10.0.0.5:443\", \"weight\": 1}"
                  : "{\"weight\": 2}"));
    }
    Map<String, Object> body = FlatJson.parse(r.body());
    for (String key : body.keySet()) {
      if (!allowed.contains(key)) {
        throw new IllegalArgumentException(
            "unknown field \"" + key + "\" (expected " + allowed.stream().sorted().toList() + ")");
      }
    }
    return body;
  }

  private static String text(Map<String, Object> body, String key, boolean required) {
    Object v = body.get(key);
    if (v instanceof String s) {
      return s;
    }
    if (v == null && !required) {
      return null;
    }
    throw new IllegalArgumentException("\"" + key + "\" must be a string such as \"10.0.0.5:443\"");
  }

  private static int weight(Map<String, Object> body, boolean required) {
    Object v = body.get("weight");
    if (v == null && !required) {
      return 1;
    }
    if (v instanceof Long n && n >= Integer.MIN_VALUE && n <= Integer.MAX_VALUE) {
      return n.intValue();
    }
    throw new IllegalArgumentException("\"weight\" must be a whole number 1..256");
  }

  private static AdminResponse answer(int status, PoolServers ps, String server, String what) {
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("pool", ps.name());
    doc.put("server", server);
    doc.put("change", what);
    doc.put("persisted", false);
    doc.put("servers", io.tollgate.admin.Status.servers(ps));
    return AdminResponse.json(status, doc);
  }
}
