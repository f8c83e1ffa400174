package io.tollgate.inspect;

import java.util.Objects;

/**
 * What an http listener keeps of a request head: enough to route it and to answer it. The head's
 * bytes themselves stay in the inspector's buffer and are relayed unchanged when a pool takes the
 * connection.
 *
 * @param method the request method, e.g. {@code GET}
 * @param path the path and query to redirect to, always starting with {@code /} (from the
 *     origin-form target, or the path of an absolute-form one); printable ASCII only
 * @param host the host name the request is for, normalised as an SNI is (lower case, no trailing
 *     dot, no port), or null when it named none or an IP address
 * @param headBytes the size of the head, request line to the empty line included
 */
public record HttpRequestHead(String method, String path, String host, int headBytes) {
  public HttpRequestHead {
    Objects.requireNonNull(method, "method");
    Objects.requireNonNull(path, "path");
  }

  /** GET or HEAD: a request an http-01 challenge answer or a redirect fits. */
  public boolean isGetOrHead() {
    return method.equals("GET") || method.equals("HEAD");
  }

  public boolean isHead() {
    return method.equals("HEAD");
  }
}
