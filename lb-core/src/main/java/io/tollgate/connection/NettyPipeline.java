package io.tollgate.connection;

/**
 * Names of every handler Tollgate puts in a pipeline, and the order they stand in. Code adds
 * handlers relative to these names, never by position.
 *
 * <h2>Client channel</h2>
 *
 * <pre>
 * accepted:     [PROXY_HEADER ->] INSPECTOR       PROXY_HEADER only on listeners with
 *                                                 proxy-protocol; it consumes the upstream's
 *                                                 header and leaves before the hello is read
 *                                                 (http listeners: HTTP_INSPECTOR instead)
 * http relay:   HTTP_INSPECTOR -> PENDING         a route's http-pool; then as passthrough
 * http answer:  LINGER                            Tollgate answered (301, 403, 4xx, http-01):
 *                                                 drops the client's bytes until it closes
 * passthrough:  INSPECTOR -> PENDING              while the backend connects; the inspector
 *                                                 leaves and hands its buffered hello on
 * offload,      INSPECTOR -> TLS_INPUT ->         the inspector hands the hello to the server
 * reencrypt:      HANDSHAKE_GATE -> TLS ->        SslHandler through the gate, which passes
 *                 PENDING                         (TLS_INPUT: see below)
 *                                                 each read when the route's turn comes and
 *                                                 leaves when the handshake ends; PENDING
 *                                                 connects once the handshake succeeded
 * relaying:     [TLS_INPUT -> WRITE_WATCH ->      PENDING replaced itself with RELAY;
 *                 TLS ->] RELAY                   WRITE_WATCH where the client speaks TLS;
 *                                                 TLS_INPUT stays in front of every TLS
 * spliced:      SPLICE_CLOSE -> RELAY             io.splice (passthrough on epoll)
 * io_uring:     EMPTY_WRITES first, always       in every state above
 * </pre>
 *
 * <h2>Backend channel</h2>
 *
 * <pre>
 * connecting:   [TLS_INPUT -> TLS ->]             autoRead off; reencrypt: a client SslHandler
 *                 CONNECTING                      handshakes with the server first
 * relaying:     [TLS_INPUT -> WRITE_WATCH ->      RELAY replaced CONNECTING; WRITE_WATCH
 *                 TLS ->] RELAY                   in reencrypt
 * spliced:      SPLICE_CLOSE -> RELAY             as on the client channel
 * io_uring:     EMPTY_WRITES first, always       as on the client channel
 * </pre>
 *
 * <h2>Listener (server) channel</h2>
 *
 * <pre>
 * accepting:    AcceptBackoff -> SnapshotPin      unnamed, never changed; then Netty's acceptor,
 *                                                 which adds the listener's initializer to each
 *                                                 accepted channel
 * </pre>
 */
public final class NettyPipeline {
  /** {@code io.tollgate.proxyprotocol.ProxyHeaderReader}: reads an upstream's PROXY header. */
  public static final String PROXY_HEADER = "tollgate.proxy-header";

  /** {@code io.tollgate.inspect.ClientHelloInspector}: buffers until the hello is parsed. */
  public static final String INSPECTOR = "tollgate.inspector";

  /**
   * {@code io.tollgate.inspect.HttpRequestInspector}: on http listeners, buffers until the request
   * head is parsed.
   */
  public static final String HTTP_INSPECTOR = "tollgate.http-inspector";

  /** {@code io.tollgate.connection.LingeringClose}: after an answer of Tollgate's own. */
  public static final String LINGER = "tollgate.linger";

  /** {@code io.tollgate.relay.PendingRelay}: holds the client while the backend connects. */
  public static final String PENDING = "tollgate.pending";

  /**
   * {@code io.tollgate.relay.BackendConnector}'s placeholder on a backend channel until the relay
   * takes its place.
   */
  public static final String CONNECTING = "tollgate.connecting";

  /**
   * {@code io.tollgate.handshake.HandshakeGate}: holds a terminated connection's reads until its
   * route's turn for handshake work.
   */
  public static final String HANDSHAKE_GATE = "tollgate.handshake-gate";

  /**
   * {@code io.tollgate.listener.AcmeChallengeAnswer}: behind the TLS handler that presents a
   * tls-alpn-01 challenge certificate; closes once the CA's handshake is done.
   */
  public static final String ACME_CHALLENGE = "tollgate.acme-challenge";

  /** Netty's SslHandler: server side on the client channel, client side on a backend channel. */
  public static final String TLS = "tollgate.tls";

  /**
   * {@code io.tollgate.connection.EmptyWrites}: first on io_uring client and backend channels,
   * completes writes of no bytes with nothing queued as epoll does (absent on epoll and NIO).
   */
  public static final String EMPTY_WRITES = "tollgate.empty-writes";

  /**
   * {@code io.tollgate.connection.ClosedTlsInput}: right in front of TLS, from the SslHandler's
   * creation on; drops what a peer sends after its close_notify and asks for no more reads.
   */
  public static final String TLS_INPUT = "tollgate.tls-input";

  /**
   * {@code io.tollgate.relay.TlsWriteWatch}: under a relayed channel's SslHandler, reports failed
   * socket writes of TLS records to the relay.
   */
  public static final String WRITE_WATCH = "tollgate.write-watch";

  /**
   * {@code io.tollgate.relay.SplicedRelay}'s close guard: a spliced channel's peer must not read
   * into this channel's pipe once it is closed.
   */
  public static final String SPLICE_CLOSE = "tollgate.splice-close";

  /** {@code io.tollgate.relay.RelayHandler}: copies bytes to the peer channel. */
  public static final String RELAY = "tollgate.relay";

  private NettyPipeline() {}
}
