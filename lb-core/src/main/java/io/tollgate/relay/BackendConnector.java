package io.tollgate.relay;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.unix.Errors;
import io.netty.handler.ssl.SslHandler;
import io.tollgate.connection.ClosedTlsInput;
import io.tollgate.connection.EmptyWrites;
import io.tollgate.connection.InputAfterFin;
import io.tollgate.connection.NettyPipeline;
import io.tollgate.pool.Backend;
import io.tollgate.pool.Lease;
import io.tollgate.pool.Pool;
import io.tollgate.pool.PoolFullException;
import io.tollgate.tls.BackendTls;
import java.nio.channels.NotYetConnectedException;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens the backend connection for a client channel: on the client's own event loop (so the pair
 * needs no locks), with reading off until the relay is wired, trying the pool's servers in order
 * when a connect fails. Only connect failures are retried: nothing has been sent yet, so trying
 * another server cannot duplicate anything.
 *
 * <p>For reencrypt, an attempt is the TCP connect plus the TLS handshake with the server; a server
 * whose handshake fails (certificate not verified, timeout) counts as failed like one that refuses
 * the connection, and the next one is tried.
 *
 * <p>Each attempt holds a {@link Lease} from the pool, taken before connecting (a server that
 * became full since the pool chose it is skipped) and told how the attempt ended; a connected
 * attempt's lease goes to the {@link Outcome}, and the relay reports the server's first byte on it.
 * The backend channel carries a placeholder named {@link NettyPipeline#CONNECTING} until the caller
 * replaces it with the relay.
 */
final class BackendConnector {
  private static final Logger log = LoggerFactory.getLogger(BackendConnector.class);

  /** What the caller learns. Both run on the client's event loop. */
  interface Outcome {
    /**
     * {@code backend} is connected (reencrypt: handshake done), reading off, with the {@link
     * NettyPipeline#CONNECTING} placeholder to replace; {@code lease} is released when it closes.
     */
    void connected(Channel backend, Lease lease, long connectNanos);

    /** Every attempt failed; {@code cause} is the last attempt's. */
    void failed(Backend lastTried, Throwable cause, int attempts);
  }

  /**
   * TLS toward the servers (reencrypt).
   *
   * @param clientSni the client's SNI, the default server name
   * @param alpn the protocol the client negotiated, offered alone; or null
   */
  record Tls(BackendTls tls, String clientSni, String alpn, Duration handshakeTimeout) {
    Tls {
      Objects.requireNonNull(tls, "tls");
      Objects.requireNonNull(handshakeTimeout, "handshakeTimeout");
    }
  }

  /**
   * Sits in the backend pipeline until the relay replaces it. Passes reads on (there are none:
   * reading is off) but ends exceptions here: whatever fails on a backend channel before the relay
   * is wired (a socket error while connecting, the reencrypt handshake's cause, which SslHandler
   * also fires down the pipeline) is already seen by the attempt through its connect or handshake
   * future. Closing the channel makes sure that future completes; letting the exception reach the
   * pipeline's tail would only log it as unhandled.
   */
  @ChannelHandler.Sharable
  private static final class Placeholder extends ChannelInboundHandlerAdapter {
    static final Placeholder INSTANCE = new Placeholder();

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      if (cause instanceof NotYetConnectedException && !ctx.channel().isActive()) {
        // Netty's epoll loop sometimes reads a socket whose connect is still in flight and
        // gets ENOTCONN (netty/netty#10411). Nothing is wrong with the attempt yet: its connect
        // future and the connect timeout decide it. Closing here failed about one connection in
        // 50,000 in the soak.
        log.debug("backend {}: read before the connect completed, ignored", ctx.channel());
        return;
      }
      log.debug("backend {} failed before the relay was wired", ctx.channel(), cause);
      ctx.close();
    }
  }

  /** Puts the placeholder on a new backend channel under its name. */
  @ChannelHandler.Sharable
  private static final class Connecting extends ChannelInitializer<Channel> {
    static final Connecting INSTANCE = new Connecting();

    @Override
    protected void initChannel(Channel ch) {
      InputAfterFin.backpressured(ch); // as the client's (TollgateChannelInitializer)
      EmptyWrites.install(ch);
      ch.pipeline().addLast(NettyPipeline.CONNECTING, Placeholder.INSTANCE);
    }
  }

  private final Channel client;
  private final Pool pool;
  private final List<Backend> order;
  private final RelaySettings settings;
  private final Tls tls;
  private final Outcome outcome;
  private Channel connecting;

  /** A PROXY protocol header written first on each connected attempt, or null. */
  private byte[] proxyHeader;

  /** A connect that failed in our own socket layer was tried again (once per connection). */
  private boolean retriedLocalFailure;

  /** The last real connect failure; null while every skipped server was merely full. */
  private Throwable lastFailure;

  /**
   * @param pool leases a slot on each server of {@code order} before connecting to it
   * @param order the servers to try, from {@link Pool#select}
   * @param tls null for a plain TCP backend connection
   */
  BackendConnector(
      Channel client,
      Pool pool,
      List<Backend> order,
      RelaySettings settings,
      Tls tls,
      Outcome outcome) {
    this.client = client;
    this.pool = pool;
    this.order = order;
    this.settings = settings;
    this.tls = tls;
    this.outcome = outcome;
  }

  /**
   * Writes {@code header} (a PROXY protocol header, or null for none) as the first bytes of every
   * backend connection this connector opens: right after the TCP connect, before the backend TLS
   * handshake (reencrypt) or any relayed byte. Call before {@link #start()}.
   */
  BackendConnector proxyHeader(byte[] header) {
    this.proxyHeader = header;
    return this;
  }

  void start() {
    attempt(0);
  }

  /** Abandons a connect in progress (the client went away). */
  void cancel() {
    // Forget the attempt before closing it: closing fails its connect future at once, and the
    // lease must hear it was cancelled, not a failure that starts the next attempt.
    Channel c = connecting;
    connecting = null;
    if (c != null) {
      c.close();
    }
  }

  private void attempt(int index) {
    Backend server = order.get(index);
    Lease lease = pool.reserve(server);
    if (lease == null) {
      // Full since the pool chose it: skip, nothing was sent.
      if (index + 1 < order.size()) {
        attempt(index + 1);
      } else {
        outcome.failed(
            server,
            lastFailure != null
                ? lastFailure
                : new PoolFullException(server + " is at its max-connections"),
            index + 1);
      }
      return;
    }
    long started = System.nanoTime();
    Bootstrap bootstrap = BackendBootstraps.of(client.eventLoop(), settings, Connecting.INSTANCE);
    ChannelFuture f =
        pool.source() == null
            ? bootstrap.connect(server.address())
            : bootstrap.connect(server.address(), pool.source());
    connecting = f.channel();
    if (settings.splice()) {
      ReadCounter.install(connecting); // before its first read, see SplicedRelay
    }
    f.addListener(
        (ChannelFuture done) -> {
          if (connecting != done.channel()) {
            lease.cancelled();
            done.channel().close(); // cancelled: never leave a connected socket behind
            return;
          }
          if (!done.isSuccess()) {
            connecting = null;
            if (!retriedLocalFailure && isLocalFailure(done.cause()) && client.isActive()) {
              // Our own socket failed, not the server: try the same server once more (nothing
              // was sent), without counting it against the server.
              retriedLocalFailure = true;
              lease.cancelled();
              attempt(index);
              return;
            }
            lease.failed(done.cause());
            next(index, server, done.cause());
            return;
          }
          if (proxyHeader != null) {
            // First bytes on the wire: the client SslHandler (reencrypt) is added after this,
            // and the relay's first write comes later still.
            done.channel()
                .writeAndFlush(Unpooled.wrappedBuffer(proxyHeader), done.channel().voidPromise());
          }
          if (tls == null) {
            connecting = null;
            lease.connected(done.channel());
            established(done.channel(), lease, started);
          } else {
            handshake(done.channel(), index, lease, started);
          }
        });
  }

  /**
   * Whether a failed connect says nothing about the server: the epoll transport could not update
   * its registration of the new socket ({@code epoll_ctl} ENOENT). Seen about once in 30,000
   * connections under connection churn (scripts/soak.sh), together with the spurious ENOTCONN reads
   * the placeholder ignores; the kernel never saw a problem with the server. (Netty 4.2 deletes an
   * fd it has no interest in and then modifies it: RearmingEpollIoHandler adds it back, so this
   * should no longer happen; kept as a guard.)
   */
  private static boolean isLocalFailure(Throwable cause) {
    // It arrives as the cause of the ClosedChannelException the connect future fails with.
    for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof Errors.NativeIoException e
          && e.getMessage() != null
          && e.getMessage().startsWith("epoll_ctl")) {
        return true;
      }
    }
    return false;
  }

  private void handshake(Channel backend, int index, Lease lease, long started) {
    Backend server = lease.server();
    SslHandler ssl =
        tls.tls().newHandler(backend.alloc(), server.address(), tls.clientSni(), tls.alpn());
    ssl.setHandshakeTimeoutMillis(tls.handshakeTimeout().toMillis());
    // Before CONNECTING, so the relay that replaces it reads plaintext.
    backend.pipeline().addFirst(NettyPipeline.TLS, ssl);
    backend.pipeline().addFirst(NettyPipeline.TLS_INPUT, new ClosedTlsInput(ssl));
    EmptyWrites.keepFirst(backend.pipeline());
    ssl.handshakeFuture()
        .addListener(
            hs -> {
              if (connecting != backend) {
                lease.cancelled();
                backend.close(); // cancelled while the handshake ran
                return;
              }
              connecting = null;
              if (hs.isSuccess()) {
                lease.connected(backend);
                established(backend, lease, started);
              } else {
                lease.failed(hs.cause());
                backend.close();
                next(index, server, hs.cause());
              }
            });
  }

  private void established(Channel backend, Lease lease, long started) {
    if (!client.isActive()) {
      backend.close(); // releases the lease
      return;
    }
    outcome.connected(backend, lease, System.nanoTime() - started);
  }

  private void next(int index, Backend server, Throwable cause) {
    lastFailure = cause;
    if (index + 1 < order.size() && client.isActive()) {
      attempt(index + 1);
    } else {
      outcome.failed(server, cause, index + 1);
    }
  }
}
