package io.tollgate.listener;

import static io.tollgate.connection.Refusal.refuse;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.ssl.SslHandler;
import io.tollgate.connection.CloseReason;
import io.tollgate.connection.ClosedTlsInput;
import io.tollgate.connection.Connection;
import io.tollgate.connection.NettyPipeline;
import io.tollgate.connection.TlsAlert;
import io.tollgate.handshake.HandshakeGate;
import io.tollgate.handshake.HandshakeQueue;
import io.tollgate.handshake.HandshakeThreads;
import io.tollgate.inspect.ClientHello;
import io.tollgate.inspect.ClientHelloInspector;
import io.tollgate.inspect.HelloFailure;
import io.tollgate.limits.ConnectionLimits;
import io.tollgate.limits.HandshakeAdmission;
import io.tollgate.metrics.Metrics;
import io.tollgate.relay.PendingRelay;
import io.tollgate.relay.RelaySettings;
import io.tollgate.route.Route;
import io.tollgate.route.Router;
import io.tollgate.snapshot.ListenerSettings;
import io.tollgate.snapshot.Snapshot;

/**
 * Decides what happens once a ClientHello is known: looks the name up in the router of the snapshot
 * the connection was accepted under ({@link Connection#snapshot}) and installs the handler for the
 * route's mode right after the inspector, with that snapshot's relay settings, or rejects the
 * connection. Stateless; one instance serves every connection of a Tollgate.
 */
final class HelloRouter implements ClientHelloInspector.HelloCallback {
  private static final boolean GATED =
      Boolean.parseBoolean(System.getProperty("tollgate.handshake.gate", "true"));

  private final Metrics metrics;
  private final ConnectionLimits limits;
  private final HandshakeThreads handshakeThreads;

  HelloRouter(Metrics metrics, ConnectionLimits limits, HandshakeThreads handshakeThreads) {
    this.metrics = metrics;
    this.limits = limits;
    this.handshakeThreads = handshakeThreads;
  }

  @Override
  public void onHello(ChannelHandlerContext ctx, ClientHello hello) {
    Connection conn = Connection.of(ctx.channel());
    conn.helloParsed(hello.sni(), hello.alpn(), hello.alpnOmitted(), System.nanoTime());
    metrics.helloParsed(hello.recordBytes());
    Snapshot snapshot = conn.snapshot();
    ListenerSettings listener = snapshot.listener(conn.listener());
    Router.Match match =
        snapshot.router().route(hello.sni(), hello.alpn(), listener.index(), listener.fallback());
    Route route = match.route();
    if (route == null) {
      String detail = hello.sni() == null ? "no SNI" : "no route for " + hello.sni();
      refuse(ctx.channel(), CloseReason.NO_ROUTE, detail, TlsAlert.UNRECOGNIZED_NAME);
      return;
    }
    conn.routed(route.name(), route.mode());
    metrics.routed(conn);
    if (handshakeThreads != null) {
      // Two routes in a row on this loop: its ClientHello steps compete with another tenant's.
      HandshakeQueue.routeSeen(ctx.channel().eventLoop(), route.name());
    }
    if (route.access() != null && !route.access().admits(conn.client())) {
      // Before the route's limit, so a refused client takes no slot. The hello is all that was
      // exchanged, in every mode, so a plaintext alert tells the client why.
      refuse(
          ctx.channel(),
          CloseReason.DENIED,
          "client " + conn.client() + " not allowed on route " + route.name(),
          TlsAlert.ACCESS_DENIED);
      return;
    }
    CloseReason limited = limits.admitRoute(ctx.channel(), route.name());
    if (limited != null) {
      refuse(
          ctx.channel(),
          limited,
          ConnectionLimits.describe(limited) + " (route " + route.name() + ")",
          TlsAlert.INTERNAL_ERROR);
      return;
    }
    switch (route.mode()) {
      case PASSTHROUGH -> {
        // Cheap work another tenant waits for: queued handshakes on this loop are paced.
        HandshakeQueue.otherWorkRouted(
            ctx.channel().eventLoop(), snapshot.config().limits().handshakeSharePercent());
        ctx.pipeline()
            .addAfter(
                ctx.name(),
                NettyPipeline.PENDING,
                PendingRelay.passthrough(conn, route.pool(), snapshot.relay(), metrics));
      }
      case OFFLOAD, REENCRYPT -> terminate(ctx, conn, route, hello, snapshot.relay());
    }
  }

  /**
   * Puts the route's server SslHandler right after the inspector, which then hands it the buffered
   * ClientHello as its first read (no second read, no copy), and the pending relay behind it. The
   * handshake gate in front of the SslHandler makes each handshake step wait for its route's turn
   * on the event loop ({@link io.tollgate.handshake.HandshakeQueue}).
   */
  private void terminate(
      ChannelHandlerContext ctx,
      Connection conn,
      Route route,
      ClientHello hello,
      RelaySettings relaySettings) {
    if (AcmeChallengeAnswer.offersOnlyAcmeTls(hello.alpn())
        && AcmeChallengeAnswer.install(ctx, conn, route, hello.sni(), relaySettings)) {
      return;
    }
    // Admission before the SslHandler exists: a refused handshake costs no TLS engine, no key
    // exchange and no signature, so a route's flood is turned away for about what a refused
    // connection costs, and by its own limits only.
    HandshakeAdmission.Ticket ticket = limits.handshakes().admit(ctx.channel(), route.name());
    if (ticket.refused() != null) {
      metrics.handshakeRefused(conn, ticket.refused());
      // HAProxy (tcp-request content reject) and nginx (limit_conn) just close here. Tollgate
      // answers as for the route's max-connections instead: a 7-byte internal_error alert is one
      // small write and no crypto, and a TLS client then reports that the server refused
      // ("alert internal error") rather than a connection lost on the way, which clients and
      // people tend to retry at once. The tarpit sends it after a delay: a client that retries
      // at once is paced by its own connections.
      limits
          .tarpit()
          .refuse(
              ctx,
              route.name(),
              ticket.refused(),
              limits.handshakes().describe(ticket.refused(), route.name()),
              TlsAlert.INTERNAL_ERROR);
      return;
    }
    SslHandler tls = route.serverTls().newHandler(ctx.alloc(), hello.sni(), hello.ecdsa());
    if (tls == null) {
      if (route.serverTls().awaitingCertificate()) {
        refuse(
            ctx.channel(),
            CloseReason.CERTIFICATE_PENDING,
            "the ACME certificate for " + hello.sni() + " is not issued yet",
            TlsAlert.INTERNAL_ERROR);
        return;
      }
      refuse(
          ctx.channel(),
          CloseReason.NO_ROUTE,
          "no certificate for " + hello.sni(),
          TlsAlert.UNRECOGNIZED_NAME);
      return;
    }
    tls.setHandshakeTimeoutMillis(relaySettings.handshakeTimeout().toMillis());
    ticket.until(tls.handshakeFuture());
    ctx.pipeline().addAfter(ctx.name(), NettyPipeline.TLS_INPUT, new ClosedTlsInput(tls));
    String before = NettyPipeline.TLS_INPUT;
    if (GATED) {
      ctx.pipeline()
          .addAfter(
              before,
              NettyPipeline.HANDSHAKE_GATE,
              new HandshakeGate(route.name(), tls, handshakeThreads));
      before = NettyPipeline.HANDSHAKE_GATE;
    }
    ctx.pipeline()
        .addAfter(before, NettyPipeline.TLS, tls)
        .addAfter(
            NettyPipeline.TLS,
            NettyPipeline.PENDING,
            PendingRelay.terminated(
                conn, route.pool(), relaySettings, metrics, route.backendTls()));
  }

  @Override
  public void onFailure(ChannelHandlerContext ctx, HelloFailure failure, String detail) {
    CloseReason reason = failure.closeReason();
    Connection.of(ctx.channel()).closeReason(reason, detail);
    metrics.helloFailed(reason);
  }
}
