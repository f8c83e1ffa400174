package io.tollgate.admin;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who may use the admin endpoint, decided before the path is looked at; the probes {@code GET
 * /ready} and {@code GET /live} are answered before this check and say nothing but the state (see
 * {@link AdminEndpoints#probe}).
 *
 * <ul>
 *   <li>With a {@code token-file}: every request, reads included, carries {@code Authorization:
 *       Bearer <token>} (401 otherwise). {@code /status} and {@code /metrics} name every tenant,
 *       backend and certificate path. The file is read at each request, so rewriting it rotates the
 *       token.
 *   <li>Without one (the endpoint is on loopback then): the {@code Host} header must be a loopback
 *       name or address (421 otherwise), so a web page whose name a DNS rebinding points at
 *       127.0.0.1 cannot read it; and anything but GET/HEAD must carry {@value
 *       AdminServer#CSRF_HEADER}, which a browser only sends cross-origin after a CORS preflight
 *       this endpoint never approves (403 otherwise), so a page in a browser on the node cannot
 *       drain or reload.
 * </ul>
 */
final class AdminAccess {
  private static final Logger log = LoggerFactory.getLogger(AdminAccess.class);
  private static final String CSRF_HEADER = AdminServer.CSRF_HEADER;

  private final Optional<Path> tokenFile;

  AdminAccess(Optional<Path> tokenFile) {
    this.tokenFile = tokenFile;
  }

  /** Empty when the request may proceed; else the refusal. */
  Optional<AdminResponse> check(AdminRequest r) {
    return tokenFile.isPresent() ? checkToken(r, tokenFile.get()) : checkLocal(r);
  }

  private Optional<AdminResponse> checkToken(AdminRequest r, Path file) {
    String expected;
    try {
      expected = AdminServer.readToken(file);
    } catch (IllegalStateException e) {
      log.error("{}", e.getMessage());
      return Optional.of(AdminResponse.error(503, "the token file cannot be read; refusing"));
    }
    String header = r.headers().get(HttpHeaderNames.AUTHORIZATION);
    String given =
        header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)
            ? header.substring(7).strip()
            : "";
    // The codec hands over header bytes as ISO-8859-1 chars: back to the bytes sent, to compare
    // with the file's UTF-8 (so a non-ASCII token works from curl).
    if (sameSecret(
        given.getBytes(StandardCharsets.ISO_8859_1), expected.getBytes(StandardCharsets.UTF_8))) {
      return Optional.empty();
    }
    log.warn(
        "admin: {} {} from {} refused: {}",
        r.method(),
        r.targetForLog(),
        r.remote(),
        header == null ? "no Authorization header" : "wrong token");
    return Optional.of(
        AdminResponse.error(
                401,
                header == null
                    ? "this request needs \"Authorization: Bearer <token>\" (the token is in the admin"
                        + " token-file)"
                    : "wrong token")
            .withHeader("WWW-Authenticate", "Bearer realm=\"tollgate\""));
  }

  /**
   * Compares digests rather than the strings: {@link MessageDigest#isEqual} takes the same time for
   * any two inputs of one length, and digests have one length, so neither how many leading
   * characters were right nor the token's length shows in the timing.
   */
  static boolean sameSecret(byte[] given, byte[] expected) {
    return MessageDigest.isEqual(sha256(given), sha256(expected));
  }

  private static byte[] sha256(byte[] b) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(b);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }

  private Optional<AdminResponse> checkLocal(AdminRequest r) {
    List<String> hosts = r.headers().getAll(HttpHeaderNames.HOST);
    if (hosts.size() > 1 || (hosts.isEmpty() && !r.http10())) {
      return Optional.of(
          AdminResponse.error(
              400,
              hosts.isEmpty()
                  ? "an HTTP/1.1 request needs a Host header"
                  : "more than one Host header"));
    }
    if (hosts.size() == 1 && !isLoopbackAuthority(hosts.get(0))) {
      log.warn(
          "admin: {} {} from {} refused: Host \"{}\" is not a loopback name",
          r.method(),
          r.targetForLog(),
          r.remote(),
          AdminRequest.forLog(hosts.get(0)));
      return Optional.of(
          AdminResponse.error(
              421,
              "Host \""
                  + hosts.get(0)
                  + "\" is not this"
                  + " endpoint: without a token-file it answers only requests addressed to localhost,"
                  + " 127.x.x.x or [::1] (a page whose name resolves here is refused)"));
    }
    if (!r.isRead() && !r.headers().contains(CSRF_HEADER)) {
      log.warn(
          "admin: {} {} from {} refused: no {} header",
          r.method(),
          r.targetForLog(),
          r.remote(),
          CSRF_HEADER);
      return Optional.of(
          AdminResponse.error(
              403,
              r.method()
                  + " needs the header \""
                  + CSRF_HEADER
                  + ": 1\" (proof that a web page did not send it)"));
    }
    return Optional.empty();
  }

  /**
   * Whether a {@code Host} value names this machine's loopback: {@code localhost} (any case), an
   * IPv4 address in 127.0.0.0/8 or the IPv6 {@code [::1]}, each with an optional port. Names are
   * never resolved.
   */
  static boolean isLoopbackAuthority(String authority) {
    String host;
    String port;
    if (authority.startsWith("[")) {
      int end = authority.indexOf(']');
      if (end < 0) {
        return false;
      }
      host = authority.substring(1, end);
      port = authority.substring(end + 1);
      if (!NetUtil.isValidIpV6Address(host)) {
        return false;
      }
    } else {
      int colon = authority.indexOf(':');
      host = colon < 0 ? authority : authority.substring(0, colon);
      port = colon < 0 ? "" : authority.substring(colon);
      if (host.equalsIgnoreCase("localhost")) {
        return isPort(port);
      }
      if (!NetUtil.isValidIpV4Address(host)) {
        return false;
      }
    }
    InetAddress address = NetUtil.createInetAddressFromIpAddressString(host);
    return isPort(port) && address != null && address.isLoopbackAddress();
  }

  /** Empty, or a colon and 1 to 5 digits. */
  private static boolean isPort(String s) {
    if (s.isEmpty()) {
      return true;
    }
    if (s.charAt(0) != ':' || s.length() < 2 || s.length() > 6) {
      return false;
    }
    for (int i = 1; i < s.length(); i++) {
      if (s.charAt(i) < '0' || s.charAt(i) > '9') {
        return false;
      }
    }
    return true;
  }
}
