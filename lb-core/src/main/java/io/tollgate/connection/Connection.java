package io.tollgate.connection;

import io.netty.channel.Channel;
import io.netty.util.AttributeKey;
import io.tollgate.config.RouteMode;
import io.tollgate.snapshot.Snapshot;
import java.net.SocketAddress;
import java.util.HexFormat;
import java.util.List;

/**
 * What Tollgate knows about one client connection, from accept to close: who, which name, which
 * route and backend, how many bytes, and why it ended.
 *
 * <p>Owned by the client channel's event loop (the backend channel shares it), so fields are plain:
 * no locks, no volatiles.
 */
public final class Connection {
  public static final AttributeKey<Connection> KEY = AttributeKey.valueOf("tollgate.connection");

  /** Ids as 16 lower-case hex digits; what {@code String.format("%016x")} gave, ~40x cheaper. */
  private static final HexFormat HEX = HexFormat.of();

  /** The id as text; for a listener's connection rendered from {@link #number} when first asked. */
  private String id;

  private final long number;
  private final String listener;
  private final SocketAddress peer;
  private final long acceptedNanos;

  /** The config in force when the listener accepted it; the connection reads no other. */
  private final Snapshot snapshot;

  /** The socket's peer, or the source of a trusted upstream PROXY header. */
  private SocketAddress client;

  /** The destination of a trusted upstream PROXY header; null: the socket's local address. */
  private SocketAddress destination;

  private String sni;

  /** At most {@link io.tollgate.inspect.ClientHello#MAX_ALPN_NAMES} names, as the hello kept. */
  private List<String> alpn = List.of();

  private int alpnOmitted;
  private String route;
  private RouteMode mode;
  private String backend;
  private TlsSummary tls;
  private long helloNanos = -1;
  private long connectNanos = -1;
  private long handshakeNanos = -1;
  private long bytesFromClient;
  private long bytesFromBackend;
  private CloseReason reason;
  private String reasonDetail;

  /** A record outside a listener (tests, fuzzing): no snapshot. */
  public Connection(String id, String listener, SocketAddress client, long acceptedNanos) {
    this(id, listener, client, acceptedNanos, null);
  }

  /**
   * A listener's connection, its id a number shown as 16 hex digits: the text is made only when
   * something asks for it (the access log at close), not kept for the life of every connection.
   */
  public Connection(
      long id, String listener, SocketAddress client, long acceptedNanos, Snapshot snapshot) {
    this(null, id, listener, client, acceptedNanos, snapshot);
  }

  /**
   * @param snapshot the snapshot in force when the listener accepted the connection: its settings,
   *     and later its route, come from this one, whatever reloads happen meanwhile
   */
  public Connection(
      String id, String listener, SocketAddress client, long acceptedNanos, Snapshot snapshot) {
    this(id, 0, listener, client, acceptedNanos, snapshot);
  }

  private Connection(
      String id,
      long number,
      String listener,
      SocketAddress client,
      long acceptedNanos,
      Snapshot snapshot) {
    this.id = id;
    this.number = number;
    this.listener = listener;
    this.peer = client;
    this.client = client;
    this.acceptedNanos = acceptedNanos;
    this.snapshot = snapshot;
  }

  /** The snapshot this connection was accepted under (null outside a listener). */
  public Snapshot snapshot() {
    return snapshot;
  }

  /** The connection attached to a client channel, or null for channels Tollgate did not accept. */
  public static Connection of(Channel channel) {
    return channel.attr(KEY).get();
  }

  /**
   * Records why the connection is ending. The first call counts, because later ones describe
   * consequences (the peer closing because we closed it), not the cause, with one exception: a FIN
   * ({@code client_closed}/{@code backend_closed}) only says who finished first, so a timeout,
   * reset or error that then ends the half-closed connection replaces it.
   */
  public void closeReason(CloseReason reason, String detail) {
    if (this.reason == null || (isOrderlyEnd(this.reason) && !isOrderlyEnd(reason))) {
      this.reason = reason;
      this.reasonDetail = detail;
    }
  }

  private static boolean isOrderlyEnd(CloseReason r) {
    return r == CloseReason.CLIENT_CLOSED || r == CloseReason.BACKEND_CLOSED;
  }

  /** As below, for a hello whose every offered ALPN name was kept. */
  public void helloParsed(String sni, List<String> alpn, long nowNanos) {
    helloParsed(sni, alpn, 0, nowNanos);
  }

  /**
   * @param alpn the offered ALPN names kept from the hello (already capped, see {@link
   *     io.tollgate.inspect.ClientHello#alpn})
   * @param alpnOmitted how many more names the client offered
   */
  public void helloParsed(String sni, List<String> alpn, int alpnOmitted, long nowNanos) {
    this.sni = sni;
    this.alpn = List.copyOf(alpn);
    this.alpnOmitted = alpnOmitted;
    this.helloNanos = nowNanos - acceptedNanos;
  }

  /**
   * A trusted upstream balancer's PROXY header named the real client: from now on {@link #client()}
   * is {@code source} (balancing, logs, the header sent to backends); {@link #peer()} stays the
   * balancer's socket address.
   *
   * @param destination the address the client connected to, as the header says
   */
  public void proxied(SocketAddress source, SocketAddress destination) {
    this.client = source;
    this.destination = destination;
  }

  /** The route and its mode, once the SNI picked them. */
  public void routed(String route, RouteMode mode) {
    this.route = route;
    this.mode = mode;
  }

  public void connected(String backend, long connectNanos) {
    this.backend = backend;
    this.connectNanos = connectNanos;
  }

  /** The client-facing TLS handshake of an offload or reencrypt route completed. */
  public void tlsEstablished(TlsSummary tls) {
    this.tls = tls;
  }

  /**
   * The client-facing TLS handshake ended (successfully or not) at {@code nowNanos}; its duration
   * counts from the end of the ClientHello, when the server SslHandler took over.
   */
  public void handshakeEnded(long nowNanos) {
    if (helloNanos >= 0) {
      this.handshakeNanos = nowNanos - acceptedNanos - helloNanos;
    }
  }

  public void addFromClient(long bytes) {
    bytesFromClient += bytes;
  }

  public void addFromBackend(long bytes) {
    bytesFromBackend += bytes;
  }

  public String id() {
    if (id == null) {
      id = HEX.toHexDigits(number);
    }
    return id;
  }

  public String listener() {
    return listener;
  }

  /** The client: the socket's peer, or the source a trusted upstream PROXY header gave. */
  public SocketAddress client() {
    return client;
  }

  /** The socket's own peer address (an upstream balancer when a PROXY header was read). */
  public SocketAddress peer() {
    return peer;
  }

  /** The destination from an upstream PROXY header, or null (use the socket's local address). */
  public SocketAddress destination() {
    return destination;
  }

  public long acceptedNanos() {
    return acceptedNanos;
  }

  public String sni() {
    return sni;
  }

  public List<String> alpn() {
    return alpn;
  }

  /** How many offered ALPN names beyond {@link #alpn()} the client sent. */
  public int alpnOmitted() {
    return alpnOmitted;
  }

  public String route() {
    return route;
  }

  public String backend() {
    return backend;
  }

  /** The route's mode, or null before routing (or when no route took the connection). */
  public RouteMode mode() {
    return mode;
  }

  /** Nanoseconds the client-facing TLS handshake took (offload, reencrypt), or -1. */
  public long handshakeNanos() {
    return handshakeNanos;
  }

  /** The terminated TLS session's details, or null (passthrough, or no handshake yet). */
  public TlsSummary tls() {
    return tls;
  }

  public long helloNanos() {
    return helloNanos;
  }

  public long connectNanos() {
    return connectNanos;
  }

  public long bytesFromClient() {
    return bytesFromClient;
  }

  public long bytesFromBackend() {
    return bytesFromBackend;
  }

  /** The recorded reason; {@link CloseReason#CLIENT_CLOSED} if none was recorded. */
  public CloseReason reason() {
    return reason == null ? CloseReason.CLIENT_CLOSED : reason;
  }

  public String reasonDetail() {
    return reasonDetail;
  }

  /**
   * One line for the debug log when the connection closes. What the client controls (SNI, ALPN,
   * certificate subject, failure details) goes through {@link LogText}: no CR, LF or ESC of the
   * client's reaches the log.
   */
  public String summary(long nowNanos) {
    StringBuilder sb = new StringBuilder(160);
    sb.append("conn=")
        .append(id())
        .append(" listener=")
        .append(listener)
        .append(" client=")
        .append(client);
    if (client != peer) {
      sb.append(" via=").append(peer);
    }
    sb.append(" reason=").append(reason().label());
    if (reasonDetail != null) {
      LogText.append(sb.append(" ("), reasonDetail).append(')');
    }
    sb.append(" sni=");
    LogText.append(sb, sni == null ? "-" : sni);
    if (!alpn.isEmpty()) {
      LogText.append(sb.append(" alpn="), String.join(",", alpn));
      if (alpnOmitted > 0) {
        sb.append(",+").append(alpnOmitted).append(" more");
      }
    }
    if (tls != null) {
      sb.append(" tls=").append(tls.protocol()).append('/').append(tls.cipher());
      if (tls.alpn() != null) {
        LogText.append(sb.append(" alpn_negotiated="), tls.alpn());
      }
      if (tls.clientSubject() != null) {
        LogText.append(sb.append(" client_cert=\""), tls.clientSubject()).append('"');
      }
    }
    sb.append(" route=")
        .append(route == null ? "-" : route)
        .append(" backend=")
        .append(backend == null ? "-" : backend)
        .append(" from_client=")
        .append(bytesFromClient)
        .append(" from_backend=")
        .append(bytesFromBackend)
        .append(" ms=")
        .append((nowNanos - acceptedNanos) / 1_000_000);
    return sb.toString();
  }
}
