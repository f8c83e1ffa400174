package io.tollgate.admin;

import io.tollgate.json.Json;
import java.util.Map;

/**
 * What the admin endpoint answers: a status, a body and the few headers some answers carry ({@code
 * Allow} on 405, {@code WWW-Authenticate} on 401). Every answer also gets {@code Cache-Control:
 * no-store} and {@code Connection: close} when written.
 */
record AdminResponse(int status, String contentType, String body, Map<String, String> headers) {
  static final String JSON = "application/json; charset=utf-8";
  static final String PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8";

  AdminResponse {
    headers = Map.copyOf(headers);
  }

  static AdminResponse json(int status, Object doc) {
    return new AdminResponse(status, JSON, Json.write(doc) + "\n", Map.of());
  }

  static AdminResponse error(int status, String message) {
    return json(status, Map.of("error", message));
  }

  static AdminResponse text(int status, String contentType, String body) {
    return new AdminResponse(status, contentType, body, Map.of());
  }

  AdminResponse withHeader(String name, String value) {
    Map<String, String> h = new java.util.LinkedHashMap<>(headers);
    h.put(name, value);
    return new AdminResponse(status, contentType, body, h);
  }
}
