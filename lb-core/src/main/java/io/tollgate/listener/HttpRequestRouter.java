package io.tollgate.listener;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.tollgate.acme.HttpChallenges;
import io.tollgate.config.HttpAction;
import io.tollgate.config.RouteMode;
import io.tollgate.connection.CloseReason;
import io.tollgate.connection.Connection;
import io.tollgate.connection.HttpAnswer;
import io.tollgate.connection.HttpAnswer.Status;
import io.tollgate.connection.NettyPipeline;
import io.tollgate.inspect.HttpRequestFailure;
import io.tollgate.inspect.HttpRequestHead;
import io.tollgate.inspect.HttpRequestInspector;
import io.tollgate.limits.ConnectionLimits;
import io.tollgate.metrics.Metrics;
import io.tollgate.relay.PendingRelay;
import io.tollgate.route.Route;
import io.tollgate.route.Router;
import io.tollgate.snapshot.ListenerSettings;
import io.tollgate.snapshot.Snapshot;
import java.util.List;
import java.util.Optional;

/**
 * Decides what an http listener ({@code protocol = http}) does with a request once its head is
 * known, by its host name through the routes of the connection's snapshot (the same table as SNI;
 * routes with {@code match-alpn} never apply, a plain request offers no ALPN). As for a
 * ClientHello, only the routes that apply on the listener count ({@code routes[].listeners}), and
 * names without one there go to the listener's {@code default-route}, else the top-level one. In
 * this order:
 *
 * <ol>
 *   <li>No route (the name is unknown here, or there is no Host, and the default route in force is
 *       {@code reject}): 421 Misdirected Request, {@code no_route}.
 *   <li>The client address (a trusted PROXY header's, else the peer's) is refused by the route's
 *       {@code allow-from} / {@code deny-from}, the default route's included: 403 Forbidden, {@code
 *       denied}, as a TLS listener refuses it with {@code access_denied}.
 *   <li>{@code GET /.well-known/acme-challenge/TOKEN} for an offload or reencrypt route, when
 *       Tollgate's ACME client has that challenge pending for the host ({@link HttpChallenges}):
 *       200 with the key authorization, {@code http_challenge_answered}. Never for passthrough
 *       routes: their tenants hold their own certificates, and their challenges are theirs to
 *       answer.
 *   <li>The route has an {@code http-pool}: the connection is relayed there, starting with the
 *       request head as it came (and the pool's PROXY header), then both ways byte for byte. One
 *       request decides: later requests on the connection go the same way unread.
 *   <li>Otherwise the route's {@code http}, else the listener's: {@code redirect-https} answers 301
 *       to {@code https://HOST/PATH} ({@code http_redirected}; 400 without a Host to redirect to),
 *       {@code reject} answers 403 ({@code http_rejected}).
 * </ol>
 *
 * Stateless but for the challenge source; one instance serves every http listener of a Tollgate.
 */
final class HttpRequestRouter implements HttpRequestInspector.RequestCallback {
  private static final String CHALLENGE_PREFIX = "/.well-known/acme-challenge/";

  private final Metrics metrics;
  private final ConnectionLimits limits;
  private volatile HttpChallenges challenges = HttpChallenges.NONE;

  HttpRequestRouter(Metrics metrics, ConnectionLimits limits) {
    this.metrics = metrics;
    this.limits = limits;
  }

  void challenges(HttpChallenges challenges) {
    this.challenges = challenges == null ? HttpChallenges.NONE : challenges;
  }

  @Override
  public void onRequest(ChannelHandlerContext ctx, HttpRequestHead head) {
    Channel ch = ctx.channel();
    Connection conn = Connection.of(ch);
    // The Host stands where a TLS connection's SNI does: access log, sni-hash, PROXY authority.
    conn.helloParsed(head.host(), List.of(), System.nanoTime());
    Snapshot snapshot = conn.snapshot();
    ListenerSettings listener = snapshot.listener(conn.listener());
    // As for a ClientHello: only the routes that apply on this listener, then its default route.
    Router.Match match =
        snapshot.router().route(head.host(), listener.index(), listener.fallback());
    Route route = match.route();
    boolean body = !head.isHead();
    if (route == null) {
      String detail = head.host() == null ? "no Host" : "no route for " + head.host();
      HttpAnswer.send(
          ch, CloseReason.NO_ROUTE, detail, Status.MISDIRECTED_REQUEST, null, null, body, true);
      return;
    }
    if (route.access() != null && !route.access().admits(conn.client())) {
      // As a ClientHello's route: before anything the route offers (its ACME answers, its
      // http-pool, its action), so a client outside its rules learns nothing but the refusal.
      HttpAnswer.send(
          ch,
          CloseReason.DENIED,
          "client " + conn.client() + " not allowed on route " + route.name(),
          Status.FORBIDDEN,
          null,
          null,
          body,
          true);
      return;
    }
    Optional<String> keyAuthorization = challengeAnswer(head, route);
    if (keyAuthorization.isPresent()) {
      HttpAnswer.send(
          ch,
          CloseReason.HTTP_CHALLENGE_ANSWERED,
          "http-01 for " + head.host() + " (route " + route.name() + ")",
          Status.OK,
          null,
          keyAuthorization.get(),
          body,
          true);
      return;
    }
    if (route.httpPool() != null) {
      relay(ctx, conn, route, snapshot);
      return;
    }
    HttpAction action = route.http() != null ? route.http() : listener.httpAction();
    switch (action) {
      case REDIRECT_HTTPS -> redirect(ch, head, route, body);
      case REJECT ->
          HttpAnswer.send(
              ch,
              CloseReason.HTTP_REJECTED,
              "http = reject (route " + route.name() + ")",
              Status.FORBIDDEN,
              null,
              null,
              body,
              true);
    }
  }

  private Optional<String> challengeAnswer(HttpRequestHead head, Route route) {
    if (head.host() == null
        || !route.mode().terminatesTls()
        || !head.isGetOrHead()
        || !head.path().startsWith(CHALLENGE_PREFIX)) {
      return Optional.empty();
    }
    String token = head.path().substring(CHALLENGE_PREFIX.length());
    if (!isBase64Url(token)) {
      return Optional.empty();
    }
    return challenges.keyAuthorization(head.host(), token);
  }

  /** RFC 8555 §8.3: a token is base64url without padding. */
  private static boolean isBase64Url(String token) {
    if (token.isEmpty()) {
      return false;
    }
    for (int i = 0; i < token.length(); i++) {
      char c = token.charAt(i);
      boolean ok =
          (c >= 'a' && c <= 'z')
              || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9')
              || c == '-'
              || c == '_';
      if (!ok) {
        return false;
      }
    }
    return true;
  }

  private static void redirect(Channel ch, HttpRequestHead head, Route route, boolean body) {
    if (head.host() == null) {
      HttpAnswer.send(
          ch,
          CloseReason.HTTP_BAD_REQUEST,
          "no Host name to redirect to (route " + route.name() + ")",
          Status.BAD_REQUEST,
          null,
          null,
          body,
          true);
      return;
    }
    // The path is printable ASCII (checked by the parser), so it cannot split the header.
    String location = "https://" + head.host() + head.path();
    HttpAnswer.send(
        ch,
        CloseReason.HTTP_REDIRECTED,
        "to " + location + " (route " + route.name() + ")",
        Status.MOVED_PERMANENTLY,
        location,
        "Moved to " + location + "\n",
        body,
        true);
  }

  private void relay(ChannelHandlerContext ctx, Connection conn, Route route, Snapshot snapshot) {
    Channel ch = ctx.channel();
    // An http-pool relay is a plain relay of unchanged bytes, counted as the route's passthrough.
    conn.routed(route.name(), RouteMode.PASSTHROUGH);
    metrics.routed(conn);
    CloseReason limited = limits.admitRoute(ch, route.name());
    if (limited != null) {
      HttpAnswer.send(
          ch,
          limited,
          ConnectionLimits.describe(limited) + " (route " + route.name() + ")",
          Status.SERVICE_UNAVAILABLE,
          null,
          null,
          true,
          false);
      return;
    }
    ctx.pipeline()
        .addAfter(
            ctx.name(),
            NettyPipeline.PENDING,
            PendingRelay.plain(
                conn,
                route.httpPool(),
                snapshot.relay(),
                metrics,
                HttpRequestRouter::backendUnavailable));
  }

  /** No server of the http-pool took the connection: 502 after failed connects, else 503. */
  private static void backendUnavailable(Channel ch, CloseReason reason, String detail) {
    HttpAnswer.send(
        ch,
        reason,
        detail,
        reason == CloseReason.CONNECT_FAILED ? Status.BAD_GATEWAY : Status.SERVICE_UNAVAILABLE,
        null,
        null,
        true,
        false);
  }

  @Override
  public void onFailure(ChannelHandlerContext ctx, HttpRequestFailure failure, String detail) {
    Connection.of(ctx.channel()).closeReason(failure.closeReason(), detail);
  }
}
