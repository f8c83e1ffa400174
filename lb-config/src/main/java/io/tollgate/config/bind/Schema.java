package io.tollgate.config.bind;

import io.tollgate.config.RouteMode;
import io.tollgate.config.ServerConfig;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Every object a Tollgate config may contain and the keys each one accepts, in one place.
 *
 * <p>Adding a setting starts here: declare its {@link Key} (with the words an error uses to say
 * what was expected), add it to its {@link Shape}, document it in {@code reference.conf}, then read
 * it in the section binder. Any key not declared here is reported as unknown, with a did-you-mean
 * hint.
 */
final class Schema {
  private Schema() {}

  /** A key and what its value should look like, phrased to follow "expected". */
  record Key(String name, String expected) {}

  /**
   * An object and the keys it accepts.
   *
   * @param refused keys recognised only so the binder can say why they do not belong here, which
   *     helps more than "unknown key"; never offered as suggestions
   */
  record Shape(String what, List<Key> keys, List<Key> refused) {
    Shape {
      keys = List.copyOf(keys);
      refused = List.copyOf(refused);
    }

    Shape(String what, List<Key> keys) {
      this(what, keys, List.of());
    }

    List<String> names() {
      return keys.stream().map(Key::name).collect(Collectors.toUnmodifiableList());
    }

    /** Whether the binder deals with {@code key}: accepted or refused. */
    boolean recognises(String key) {
      return names().contains(key) || refused.stream().anyMatch(k -> k.name().equals(key));
    }
  }

  static final String ROOT = "tollgate";

  private static List<Key> concat(List<Key> a, List<Key> b) {
    List<Key> out = new java.util.ArrayList<>(a);
    out.addAll(b);
    return out;
  }

  // tollgate { ... }
  static final Key LISTENERS =
      new Key(
          "listeners",
          "a non-empty list of listeners, e.g. [ { name = main, address ="
              + " \"0.0.0.0:443\" } ]");
  static final Key IO = new Key("io", "an object such as { transport = auto }");
  static final Key TIMEOUTS = new Key("timeouts", "an object such as { connect = 3s }");
  static final Key LIMITS = new Key("limits", "an object such as { max-client-hello = 16k }");
  static final Key ROUTES =
      new Key("routes", "a list of routes, e.g. [ { hosts = [\"example.com\"], pool = web } ]");
  static final Key DEFAULT_ROUTE =
      new Key("default-route", "reject, or an object such as { pool = NAME }");
  static final Key POOLS =
      new Key(
          "pools", "an object of named pools, e.g. { web { servers =" + " [\"10.0.0.1:443\"] } }");
  static final Key CERTIFICATES =
      new Key("certificates", "an object such as { directory = \"certs/\" }");
  static final Key TLS = new Key("tls", "an object such as { session-tickets = true }");
  static final Key ADMIN =
      new Key(
          "admin",
          "an object such as { address = \"127.0.0.1:9900\"," + " token-file = \"admin.token\" }");
  static final Key WATCH = new Key("watch", "true or false");
  static final Key ACCESS_LOG = new Key("access-log", "an object such as { path = stdout }");
  static final Key DNS =
      new Key("dns", "an object such as { servers = [\"127.0.0.1:53\"], timeout = 2s }");

  // tollgate.dns (issue 13)
  static final Key DNS_SERVERS =
      new Key(
          "servers",
          "a list of name servers such as [\"10.0.0.53:53\"], empty for those of"
              + " /etc/resolv.conf");
  static final Key DNS_TIMEOUT = new Key("timeout", "a positive duration such as 2s");
  static final Shape DNS_SHAPE = new Shape("dns", List.of(DNS_SERVERS, DNS_TIMEOUT));
  static final Key WARMUP = new Key("warmup", "an object such as { handshakes = 1000 }");
  static final Key ACME =
      new Key(
          "acme",
          "an object such as { directory = \"https://acme-v02.api.letsencrypt.org/directory\","
              + " storage = \"/var/lib/tollgate/acme\" }");
  static final Key TENANTS_DIRECTORY =
      new Key(
          "tenants-directory",
          "a directory of tenant files (*.conf, each with routes and pools), e.g. \"tenants/\"");
  static final Shape TOLLGATE =
      new Shape(
          "tollgate",
          List.of(
              LISTENERS,
              IO,
              TIMEOUTS,
              LIMITS,
              CERTIFICATES,
              TLS,
              ROUTES,
              DEFAULT_ROUTE,
              POOLS,
              ADMIN,
              WATCH,
              ACCESS_LOG,
              WARMUP,
              ACME,
              DNS,
              TENANTS_DIRECTORY));

  // tollgate.acme (issue 12)
  static final Key ACME_DIRECTORY =
      new Key("directory", "the https URL of an ACME (RFC 8555) directory");
  static final Key ACME_EMAIL = new Key("email", "a contact e-mail address");
  static final Key ACME_STORAGE =
      new Key("storage", "a directory Tollgate may write, e.g. \"/var/lib/tollgate/acme\"");
  static final Key ACME_CA =
      new Key("ca", "a PEM file of the root certificate(s) the ACME server's HTTPS chains to");
  static final Key ACME_CHALLENGE = new Key("challenge", "tls-alpn-01 or http-01");
  static final Key ACME_RENEW_BEFORE = new Key("renew-before", "a positive duration such as 30d");
  static final Key ACME_KEY_TYPE = new Key("key-type", "ec-p256, rsa-2048 or both");
  static final Shape ACME_SHAPE =
      new Shape(
          "acme",
          List.of(
              ACME_DIRECTORY,
              ACME_EMAIL,
              ACME_STORAGE,
              ACME_CA,
              ACME_CHALLENGE,
              ACME_RENEW_BEFORE,
              ACME_KEY_TYPE));

  // tollgate.warmup (issues 10 and 11)
  static final Key WARMUP_HANDSHAKES =
      new Key("handshakes", "auto, or a number of loopback connections, 0 (off) to 100000");
  static final int MAX_WARMUP_HANDSHAKES = 100_000;
  static final Key WARMUP_RELOADS =
      new Key("reloads", "auto, or a number of rehearsed reloads, 0 (off) to 100");
  static final int MAX_WARMUP_RELOADS = 100;
  static final Shape WARMUP_SHAPE = new Shape("warmup", List.of(WARMUP_HANDSHAKES, WARMUP_RELOADS));

  // tollgate.admin (issue 6)
  static final Key ADMIN_ADDRESS = new Key("address", "an address such as \"127.0.0.1:9900\"");
  static final Key TOKEN_FILE =
      new Key("token-file", "a file holding the bearer token, e.g." + " \"admin.token\"");
  static final Shape ADMIN_SHAPE = new Shape("admin", List.of(ADMIN_ADDRESS, TOKEN_FILE));

  // tollgate.listeners[i]
  static final Key LISTENER_NAME =
      new Key("name", "a name such as main (letters, digits, '-'," + " '_' or '.')");
  static final Key LISTENER_ADDRESS =
      new Key("address", "an address such as \"0.0.0.0:443\" or" + " \"[::]:443\"");
  static final Key LISTENER_PROXY_PROTOCOL =
      new Key(
          "proxy-protocol",
          "an object such as" + " { mode = required, trusted = [\"10.0.0.0/8\"] }");

  /** max-connections of the global limits, a listener and a route (issue 6). */
  static final Key CONNECTION_LIMIT =
      new Key("max-connections", "a whole number of" + " connections, 0 for no limit");

  // issue 11: socket options, native transports (epoll, io_uring) only
  static final Key LISTENER_REUSE_PORT = new Key("reuse-port", "true or false");
  static final Key LISTENER_FREEBIND = new Key("freebind", "true or false");

  // issue 12: the port-80 companion
  static final Key LISTENER_PROTOCOL = new Key("protocol", "tls or http");

  /** The plain-HTTP action of an http listener (its default) and of a route (issue 12). */
  static final Key HTTP_ACTION = new Key("http", "redirect-https or reject");

  // issue 13: routing and access. allow-from / deny-from on routes, default routes and listeners.
  static final Key ALLOW_FROM =
      new Key(
          "allow-from",
          "a list of networks (CIDR, or one IP address) such as [\"10.0.0.0/8\","
              + " \"2001:db8::/32\"]");
  static final Key DENY_FROM =
      new Key(
          "deny-from",
          "a list of networks (CIDR, or one IP address) such as [\"192.0.2.0/24\","
              + " \"::1/128\"]");
  static final List<Key> ACCESS_KEYS = List.of(ALLOW_FROM, DENY_FROM);
  static final Key ROUTE_LISTENERS =
      new Key("listeners", "a non-empty list of listener names such as [edge-a, edge-b]");

  static final Shape LISTENER =
      new Shape(
          "listener",
          concat(
              List.of(
                  LISTENER_NAME,
                  LISTENER_ADDRESS,
                  LISTENER_PROXY_PROTOCOL,
                  CONNECTION_LIMIT,
                  LISTENER_REUSE_PORT,
                  LISTENER_FREEBIND,
                  LISTENER_PROTOCOL,
                  HTTP_ACTION,
                  DEFAULT_ROUTE),
              ACCESS_KEYS));

  // tollgate.listeners[i].proxy-protocol (issue 4)
  static final Key UPSTREAM_PROXY_MODE = new Key("mode", "one of off, optional, required");
  static final Key UPSTREAM_PROXY_TRUSTED =
      new Key(
          "trusted",
          "a non-empty list of networks"
              + " allowed to send a PROXY header, e.g. [\"10.0.0.0/8\", \"::1/128\"]");
  static final Shape UPSTREAM_PROXY_SHAPE =
      new Shape("listener proxy-protocol", List.of(UPSTREAM_PROXY_MODE, UPSTREAM_PROXY_TRUSTED));

  // tollgate.io
  static final Key TRANSPORT = new Key("transport", "one of auto, epoll, io_uring, nio");
  static final Key WORKER_THREADS =
      new Key("worker-threads", "a whole number of threads, 0 for" + " one per core");
  static final Key SPLICE = new Key("splice", "true or false");
  static final Key ACCEPT = new Key("accept", "one of worker, thread");
  static final Key HANDSHAKE_THREADS =
      new Key(
          "handshake-threads",
          "auto (one per worker loop) or a whole number of threads, 0 for none (the event loops)");
  static final Key HANDSHAKE_PRIORITY = new Key("handshake-priority", "one of nice, idle");
  static final Key HANDSHAKE_THREADS_WHEN =
      new Key("handshake-threads-when", "one of contended, always, gaps");
  static final Shape IO_SHAPE =
      new Shape(
          "io",
          List.of(
              TRANSPORT,
              WORKER_THREADS,
              SPLICE,
              ACCEPT,
              HANDSHAKE_THREADS,
              HANDSHAKE_PRIORITY,
              HANDSHAKE_THREADS_WHEN));

  // tollgate.timeouts
  static final Key CLIENT_HELLO = new Key("client-hello", "a positive duration such as 5s");
  static final Key CONNECT = new Key("connect", "a positive duration such as 3s");
  static final Key IDLE = new Key("idle", "a positive duration such as 5m");
  static final Key HANDSHAKE = new Key("handshake", "a positive duration such as 10s");
  static final Key DRAIN = new Key("drain", "a positive duration such as 30s");
  static final Key WITHDRAW =
      new Key("withdraw", "a duration such as 10s, or 0 to close the listeners at once");
  // issue 13: socket options
  static final Key KEEPALIVE =
      new Key("keepalive", "a duration such as 60s, or 0 to turn TCP keepalive off");
  static final Key MAX_LIFETIME = new Key("max-lifetime", "a duration such as 1h, or 0 for no cap");
  static final Key LINGERING_CLOSE = new Key("lingering-close", "a positive duration such as 30s");
  static final Shape TIMEOUTS_SHAPE =
      new Shape(
          "timeouts",
          List.of(
              CLIENT_HELLO,
              CONNECT,
              IDLE,
              HANDSHAKE,
              DRAIN,
              WITHDRAW,
              KEEPALIVE,
              MAX_LIFETIME,
              LINGERING_CLOSE));

  // tollgate.limits
  static final Key MAX_CLIENT_HELLO = new Key("max-client-hello", "a size in bytes such as 16k");
  static final Key PER_SOURCE =
      new Key(
          "per-source", "an object such as { max-connections =" + " 256, new-per-second = 100 }");
  static final Key PER_ROUTE =
      new Key(
          "per-route",
          "an object such as { handshakes-per-second = 200, concurrent-handshakes = 64 }");
  static final Key TARPIT =
      new Key(
          "tarpit",
          "an object such as { delay = 1s, max-held = 10000, max-held-per-route = 1000 }");
  static final Key HANDSHAKE_SHARE_PERCENT =
      new Key(
          "handshake-share-percent",
          "a whole number of percent, 10..100: the most of a worker's time queued TLS handshakes"
              + " take while it also serves other tenants (100 = no pacing)");
  static final Key RECEIVE_BUFFER =
      new Key("receive-buffer", "a size in bytes such as 256k, or 0 for the kernel's autotuning");
  static final Shape LIMITS_SHAPE =
      new Shape(
          "limits",
          List.of(
              MAX_CLIENT_HELLO,
              CONNECTION_LIMIT,
              PER_SOURCE,
              PER_ROUTE,
              TARPIT,
              HANDSHAKE_SHARE_PERCENT,
              RECEIVE_BUFFER));

  // issue 16: tollgate.limits.tarpit, pacing of handshakes refused by admission
  static final Key TARPIT_DELAY =
      new Key("delay", "a duration such as 1s (at most 1m), or 0 to refuse at once");
  static final Key MAX_HELD =
      new Key("max-held", "a whole number of connections held at once over every route");
  static final Key MAX_HELD_PER_ROUTE =
      new Key("max-held-per-route", "a whole number of connections held at once for one route");
  static final Shape TARPIT_SHAPE =
      new Shape("tarpit", List.of(TARPIT_DELAY, MAX_HELD, MAX_HELD_PER_ROUTE));

  // issue 16: handshake admission, in tollgate.limits.per-route and tollgate.routes[i].limits
  static final Key HANDSHAKES_PER_SECOND =
      new Key(
          "handshakes-per-second",
          "a whole number of new TLS handshakes per second, 0 for no limit");
  static final Key HANDSHAKES_BURST =
      new Key(
          "handshakes-burst",
          "a whole number of handshakes, at least 1 (default: handshakes-per-second)");
  static final Key CONCURRENT_HANDSHAKES =
      new Key("concurrent-handshakes", "a whole number of handshakes in progress, 0 for no limit");
  static final List<Key> HANDSHAKE_LIMIT_KEYS =
      List.of(HANDSHAKES_PER_SECOND, HANDSHAKES_BURST, CONCURRENT_HANDSHAKES);
  static final Shape PER_ROUTE_SHAPE = new Shape("per-route", HANDSHAKE_LIMIT_KEYS);
  static final Key ROUTE_LIMITS =
      new Key("limits", "an object such as { handshakes-per-second = 200 }");
  static final Shape ROUTE_LIMITS_SHAPE = new Shape("route limits", HANDSHAKE_LIMIT_KEYS);

  // tollgate.limits.per-source
  static final Key NEW_PER_SECOND =
      new Key(
          "new-per-second", "a whole number of new" + " connections per second, 0 for no limit");
  static final Key IPV6_PREFIX =
      new Key(
          "ipv6-prefix",
          "a prefix length in bits, 1..128: IPv6"
              + " clients in one such prefix count as one source");
  static final Shape PER_SOURCE_SHAPE =
      new Shape("per-source", List.of(CONNECTION_LIMIT, NEW_PER_SECOND, IPV6_PREFIX));

  // tollgate.access-log
  static final Key ACCESS_LOG_PATH =
      new Key(
          "path",
          "off, stdout, stderr or a file path such as" + " \"/var/log/tollgate/access.log\"");
  static final Shape ACCESS_LOG_SHAPE = new Shape("access-log", List.of(ACCESS_LOG_PATH));

  // tollgate.certificates
  static final Key DIRECTORY =
      new Key(
          "directory",
          "a directory of PEM bundles (certificate" + " chain and key), e.g. \"certs/\"");
  static final Key TRUSTED_ROOTS =
      new Key("trusted-roots", "a PEM file of root CA" + " certificates, e.g. \"roots.pem\"");
  static final Shape CERTIFICATES_SHAPE =
      new Shape("certificates", List.of(DIRECTORY, TRUSTED_ROOTS));

  // tollgate.tls
  static final Key SESSION_TICKETS = new Key("session-tickets", "true or false");
  static final Key SESSION_TICKET_KEYS =
      new Key("session-ticket-keys", "a file of session" + " ticket keys, e.g. \"ticket.keys\"");
  static final Key SESSION_CACHE_SIZE =
      new Key("session-cache-size", "a whole number of" + " sessions, 0 to turn the cache off");
  static final Key SESSION_TIMEOUT = new Key("session-timeout", "a positive duration such as 5m");
  static final Shape TLS_SHAPE =
      new Shape(
          "tls",
          List.of(SESSION_TICKETS, SESSION_TICKET_KEYS, SESSION_CACHE_SIZE, SESSION_TIMEOUT));

  // tollgate.routes[i]
  static final Key HOSTS =
      new Key(
          "hosts",
          "a non-empty list of host names, e.g. [\"example.com\"," + " \"*.example.com\"]");
  static final Key MODE = new Key("mode", "a route mode");
  static final Key POOL = new Key("pool", "the name of a pool defined under tollgate.pools");
  static final Key CERTIFICATE =
      new Key(
          "certificate",
          "auto, { chain = \"site.pem\", key ="
              + " \"site.key\" }, a list of one or two such objects (one ECDSA, one RSA),"
              + " or acme");
  static final Key ALPN =
      new Key(
          "alpn",
          "a list of ALPN protocol names such as [\"h2\"," + " \"http/1.1\"], or [] for none");
  static final Key PROTOCOLS =
      new Key("protocols", "a non-empty list of TLS versions from" + " TLSv1.2, TLSv1.3");
  static final Key CIPHERS =
      new Key(
          "ciphers",
          "a list of TLS 1.2 cipher suite names such as"
              + " [\"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256\"], or [] for the built-in list");
  static final Key CLIENT_AUTH =
      new Key("client-auth", "an object such as { mode = require, ca" + " = \"clients-ca.pem\" }");

  /** The keys of a route that configure TLS termination: passthrough routes may not have them. */
  static final List<Key> SERVER_TLS_KEYS =
      List.of(CERTIFICATE, ALPN, PROTOCOLS, CIPHERS, CLIENT_AUTH);

  // issue 12
  static final Key MATCH_ALPN =
      new Key(
          "match-alpn",
          "a non-empty list of ALPN protocol names such as [\"acme-tls/1\"] or [\"h2\"]");
  static final Key HTTP_POOL =
      new Key("http-pool", "the name of a pool defined under tollgate.pools, without tls");

  static final Shape ROUTE =
      new Shape(
          "route",
          concat(
              concat(
                  List.of(HOSTS, MODE, POOL, CONNECTION_LIMIT, MATCH_ALPN, HTTP_POOL, HTTP_ACTION),
                  SERVER_TLS_KEYS),
              concat(List.of(ROUTE_LISTENERS, ROUTE_LIMITS), ACCESS_KEYS)));

  // tollgate.routes[i].certificate as an object, or an element of the list
  static final Key CHAIN =
      new Key("chain", "a PEM file: the certificate first, then its" + " intermediates");
  static final Key KEY = new Key("key", "a PEM file with the private key");
  static final Key OCSP = new Key("ocsp", "a file with a DER OCSP response to staple");
  static final Shape CERTIFICATE_FILES = new Shape("certificate", List.of(CHAIN, KEY, OCSP));

  // tollgate.routes[i].client-auth
  static final Key CLIENT_AUTH_MODE = new Key("mode", "require or optional");
  static final Key CLIENT_CA =
      new Key("ca", "a PEM file of the CA certificates that issue" + " client certificates");
  static final Shape CLIENT_AUTH_SHAPE =
      new Shape("client-auth", List.of(CLIENT_AUTH_MODE, CLIENT_CA));

  // tollgate.default-route { ... } and listeners[i].default-route: the TLS keys go with offload and
  // reencrypt (issue 13), whose certificate is served whatever the SNI.
  static final Shape DEFAULT_ROUTE_SHAPE =
      new Shape("default-route", concat(concat(List.of(MODE, POOL), SERVER_TLS_KEYS), ACCESS_KEYS));

  // ---- Health checks, balancing and passive ejection (issue 5) -------------------------------
  // Declared before POOL_SHAPE and SERVER, which include them. Read by PoolHealthBinder.

  // tollgate.pools.NAME: the pool-level keys of this block
  static final Key HEALTH_CHECK =
      new Key("health-check", "an object such as { type = tcp," + " interval = 2s }");
  static final Key BALANCE = new Key("balance", "a balancing algorithm");
  static final Key SLOW_START = new Key("slow-start", "a duration such as 30s, or 0 for none");
  static final Key ON_ALL_DOWN = new Key("on-all-down", "one of reject, try-all");
  static final Key PASSIVE_EJECTION =
      new Key("passive-ejection", "an object such as" + " { failures = 3, backoff = 10s }");
  static final List<Key> POOL_HEALTH_KEYS =
      List.of(HEALTH_CHECK, BALANCE, SLOW_START, ON_ALL_DOWN, PASSIVE_EJECTION);

  // tollgate.pools.NAME.health-check
  static final Key CHECK_TYPE = new Key("type", "one of tcp, tls, http, https");
  static final Key CHECK_INTERVAL = new Key("interval", "a positive duration such as 2s");
  static final Key CHECK_FAST_INTERVAL =
      new Key("fast-interval", "a positive duration such as" + " 1s");
  static final Key CHECK_DOWN_INTERVAL =
      new Key("down-interval", "a positive duration such as" + " 4s");
  static final Key CHECK_TIMEOUT = new Key("timeout", "a positive duration such as 1s");
  static final Key CHECK_RISE = new Key("rise", "a whole number of successes");
  static final Key CHECK_FALL = new Key("fall", "a whole number of failures");
  static final Key CHECK_JITTER = new Key("jitter", "a percentage such as 10%");
  static final Key CHECK_PATH = new Key("path", "a request path such as \"/healthz\"");
  static final Key CHECK_HOST = new Key("host", "a Host header value such as \"example.com\"");
  static final Key CHECK_EXPECT_STATUS =
      new Key("expect-status", "an HTTP status or range such" + " as \"200-399\"");
  static final Key CHECK_EXPECT_BODY = new Key("expect-body", "a substring of the response body");
  static final Key CHECK_SERVER_NAME = new Key("server-name", "a host name to send as SNI");
  static final Key CHECK_INITIAL = new Key("initial", "one of up, down");
  static final Key CHECK_VERIFY = new Key("verify", "true or false");
  static final Shape HEALTH_CHECK_SHAPE =
      new Shape(
          "health-check",
          List.of(
              CHECK_TYPE,
              CHECK_INTERVAL,
              CHECK_FAST_INTERVAL,
              CHECK_DOWN_INTERVAL,
              CHECK_TIMEOUT,
              CHECK_RISE,
              CHECK_FALL,
              CHECK_JITTER,
              CHECK_PATH,
              CHECK_HOST,
              CHECK_EXPECT_STATUS,
              CHECK_EXPECT_BODY,
              CHECK_SERVER_NAME,
              CHECK_INITIAL,
              CHECK_VERIFY));
  static final int MAX_RISE_FALL = 100;

  // tollgate.pools.NAME.passive-ejection
  static final Key PASSIVE_FAILURES =
      new Key("failures", "a whole number of consecutive connect" + " failures, 0 for off");
  static final Key PASSIVE_BACKOFF = new Key("backoff", "a positive duration such as 10s");
  static final Shape PASSIVE_EJECTION_SHAPE =
      new Shape("passive-ejection", List.of(PASSIVE_FAILURES, PASSIVE_BACKOFF));

  // tollgate.pools.NAME.servers[i] as an object
  static final Key MAX_CONNECTIONS =
      new Key("max-connections", "a whole number of connections," + " 0 for no limit");
  // ---- end of issue 5 block ---------------------------------------------------------------------

  // tollgate.pools.NAME
  static final Key SERVERS =
      new Key(
          "servers",
          "a non-empty list of servers, e.g."
              + " [\"10.0.0.1:443\", { address = \"10.0.0.2:443\", weight = 2 }]");
  static final Key CONNECT_ATTEMPTS = new Key("connect-attempts", "a whole number of attempts");
  static final Key POOL_TLS =
      new Key(
          "tls",
          "an object such as { ca = \"backend-ca.pem\"," + " server-name = \"api.internal\" }");
  static final Key POOL_PROXY_PROTOCOL = new Key("proxy-protocol", "one of off, v1, v2");
  static final Key POOL_PROXY_TLVS =
      new Key("proxy-protocol-tlvs", "an object such as" + " { authority = true, crc32c = false }");
  // DNS-aware pools (issue 13)
  static final Key RESOLVE_EVERY = new Key("resolve-every", "a positive duration such as 30s");
  static final Key SRV = new Key("srv", "an SRV name such as \"_https._tcp.tenant.example\"");
  static final Key POOL_SOURCE =
      new Key("source", "an IP address of this host such as \"10.0.0.5\" or \"2001:db8::5\"");
  static final Shape POOL_SHAPE =
      new Shape(
          "pool",
          concat(
              List.of(
                  SERVERS,
                  CONNECT_ATTEMPTS,
                  POOL_TLS,
                  POOL_PROXY_PROTOCOL,
                  POOL_PROXY_TLVS,
                  RESOLVE_EVERY,
                  SRV,
                  POOL_SOURCE),
              POOL_HEALTH_KEYS));

  // tollgate.pools.NAME.proxy-protocol-tlvs (issue 4); defaults in BackendProxyProtocol.OFF
  static final Key TLV_AUTHORITY = new Key("authority", "true or false");
  static final Key TLV_ALPN = new Key("alpn", "true or false");
  static final Key TLV_UNIQUE_ID = new Key("unique-id", "true or false");
  static final Key TLV_SSL = new Key("ssl", "true or false");
  static final Key TLV_CRC32C = new Key("crc32c", "true or false");
  static final Shape PROXY_TLVS_SHAPE =
      new Shape(
          "proxy-protocol-tlvs",
          List.of(TLV_AUTHORITY, TLV_ALPN, TLV_UNIQUE_ID, TLV_SSL, TLV_CRC32C));

  // tollgate.pools.NAME.tls
  static final Key BACKEND_CA =
      new Key("ca", "a PEM file of the CA certificates that issue the" + " servers' certificates");
  static final Key SERVER_NAME = new Key("server-name", "a host name such as api.internal");
  static final Key VERIFY = new Key("verify", "true or false");
  static final Key CLIENT_CERTIFICATE =
      new Key(
          "certificate",
          "an object such as { chain =" + " \"lb-client.pem\", key = \"lb-client.key\" }");
  static final Shape BACKEND_TLS_SHAPE =
      new Shape(
          "pool tls", List.of(BACKEND_CA, SERVER_NAME, VERIFY, CLIENT_CERTIFICATE, PROTOCOLS));

  // tollgate.pools.NAME.tls.certificate: no ocsp, Tollgate staples only for its server certificates
  static final Shape CLIENT_CERTIFICATE_FILES =
      new Shape("client certificate", List.of(CHAIN, KEY));

  // tollgate.pools.NAME.servers[i] as an object
  static final Key SERVER_ADDRESS =
      new Key("address", "an address such as \"10.0.0.1:443\" or" + " \"[2001:db8::1]:443\"");
  static final Key WEIGHT = new Key("weight", "a whole number");
  static final Key BACKUP = new Key("backup", "true or false");
  static final Shape SERVER =
      new Shape("server", List.of(SERVER_ADDRESS, WEIGHT, MAX_CONNECTIONS, BACKUP));

  /*
   * Defaults for keys inside list elements and named pools. reference.conf cannot hold these
   * (HOCON has no defaults for list elements or for objects whose names the user picks), so they
   * live here and reference.conf documents them in comments.
   */
  static final RouteMode DEFAULT_MODE = RouteMode.PASSTHROUGH;
  static final int DEFAULT_CONNECT_ATTEMPTS = 3;
  static final int MAX_CONNECT_ATTEMPTS = 100;
  static final int DEFAULT_WEIGHT = ServerConfig.DEFAULT_WEIGHT;

  /** Guards against typos such as 8000; no box has that many cores to pin. */
  static final int MAX_WORKER_THREADS = 1024;

  /** {@code certificate = auto}: look the certificate up in tollgate.certificates by SNI. */
  static final String AUTO = "auto";

  /** {@code certificate = acme}: ordered from tollgate.acme's CA (issue 12). */
  static final String ACME_CERTIFICATE = "acme";

  /** One ECDSA and one RSA certificate; a third could only repeat a key type. */
  static final int MAX_CERTIFICATES = 2;

  static final boolean DEFAULT_VERIFY = true;
  static final int MAX_SESSION_CACHE_SIZE = 10_000_000;
}
