package io.tollgate.testkit;

import io.tollgate.pki.CertificateAuthority;
import io.tollgate.pki.IssuedCertificate;
import io.tollgate.pki.TlsProtocols;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;

/**
 * A raw TLS server over {@link SSLServerSocket} (or, from {@link #startPlain}, a plain TCP one: the
 * backend of an offload route) for relay tests: thread per connection, a pluggable {@link
 * ConnectionHandler}, counts of accepted connections, and the SNI each handshake carried. Binds
 * {@code 127.0.0.1:0} unless told otherwise; read the port back with {@link #port()}.
 *
 * <p>After the handler returns the server closes the connection. {@link #close()} closes the
 * listening socket and every live connection, so blocked handlers end promptly.
 */
public final class TlsTestServer implements AutoCloseable {
  /** Serves one accepted connection; the handshake has already completed. */
  @FunctionalInterface
  public interface ConnectionHandler {
    void handle(Socket socket) throws Exception;
  }

  private final ServerSocket serverSocket;
  private final IssuedCertificate certificate;
  private final ConnectionHandler handler;
  private final ExecutorService pool;
  private final Set<Socket> live = ConcurrentHashMap.newKeySet();
  private final AtomicInteger accepted = new AtomicInteger();
  private final List<String> serverNames = new CopyOnWriteArrayList<>();
  private final List<Throwable> failures = new CopyOnWriteArrayList<>();
  private volatile boolean closed;

  private TlsTestServer(
      InetSocketAddress bind,
      IssuedCertificate certificate,
      SSLContext context,
      Consumer<SSLServerSocket> tune,
      ConnectionHandler handler)
      throws IOException {
    this.certificate = certificate;
    this.handler = Objects.requireNonNull(handler, "handler");
    if (certificate == null) {
      serverSocket = new ServerSocket();
    } else {
      SSLServerSocket tls = (SSLServerSocket) context.getServerSocketFactory().createServerSocket();
      tls.setEnabledProtocols(TlsProtocols.modern());
      tune.accept(tls);
      serverSocket = tls;
    }
    serverSocket.setReuseAddress(true);
    serverSocket.bind(bind, 128);
    AtomicInteger ids = new AtomicInteger();
    pool =
        Executors.newCachedThreadPool(
            runnable -> {
              Thread thread = new Thread(runnable, "tls-test-server-" + ids.incrementAndGet());
              thread.setDaemon(true);
              return thread;
            });
    pool.execute(this::acceptLoop);
  }

  /** Starts a server on {@code 127.0.0.1:0}. */
  public static TlsTestServer start(IssuedCertificate certificate, ConnectionHandler handler) {
    return start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), certificate, handler);
  }

  /** Starts a plain TCP server (no TLS) on {@code 127.0.0.1:0}. */
  public static TlsTestServer startPlain(ConnectionHandler handler) {
    return start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), null, handler);
  }

  /**
   * Starts a server on {@code bind} (for instance {@code [::1]:0}); plain TCP when {@code
   * certificate} is null.
   */
  public static TlsTestServer start(
      InetSocketAddress bind, IssuedCertificate certificate, ConnectionHandler handler) {
    return start(bind, certificate, s -> {}, handler);
  }

  /**
   * Starts a TLS server on {@code 127.0.0.1:0} whose socket {@code tune} adjusts before it binds
   * (ALPN protocols, client authentication). With {@code clientCa}, client certificates issued by
   * it are trusted (use with {@code s.setNeedClientAuth(true)}).
   */
  public static TlsTestServer start(
      IssuedCertificate certificate,
      CertificateAuthority clientCa,
      Consumer<SSLServerSocket> tune,
      ConnectionHandler handler) {
    try {
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(
          certificate.keyManagers().getKeyManagers(),
          clientCa == null ? null : clientCa.trustManagers().getTrustManagers(),
          new SecureRandom());
      return start(
          new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
          certificate,
          context,
          tune,
          handler);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static TlsTestServer start(
      InetSocketAddress bind,
      IssuedCertificate certificate,
      Consumer<SSLServerSocket> tune,
      ConnectionHandler handler) {
    return start(
        bind, certificate, certificate == null ? null : certificate.serverContext(), tune, handler);
  }

  private static TlsTestServer start(
      InetSocketAddress bind,
      IssuedCertificate certificate,
      SSLContext context,
      Consumer<SSLServerSocket> tune,
      ConnectionHandler handler) {
    try {
      return new TlsTestServer(bind, certificate, context, tune, handler);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot bind TLS test server to " + bind, e);
    }
  }

  /** The bound port. */
  public int port() {
    return serverSocket.getLocalPort();
  }

  /** The bound address and port. */
  public InetSocketAddress address() {
    return (InetSocketAddress) serverSocket.getLocalSocketAddress();
  }

  /** The certificate the server presents; null for a plain server. */
  public IssuedCertificate certificate() {
    return certificate;
  }

  /** Connections accepted so far (including ones whose handshake failed). */
  public int acceptedConnections() {
    return accepted.get();
  }

  /** Connections currently open. */
  public int liveConnections() {
    return live.size();
  }

  /** SNI host name of each completed handshake, in order; {@code ""} when none was sent. */
  public List<String> serverNames() {
    return List.copyOf(serverNames);
  }

  /**
   * The SNI host names seen so far, once {@code name} is among them (waiting at most 5 s). The
   * server notes a name on its own thread when its side of the handshake is done, which in TLS 1.3
   * is after the client's side: a client that reads nothing may check too early.
   */
  public List<String> awaitServerName(String name) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (!serverNames.contains(name) && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    return serverNames();
  }

  /** Handshake and handler failures, excluding those caused by {@link #close()}. */
  public List<Throwable> failures() {
    return List.copyOf(failures);
  }

  /** Closes the listening socket and all live connections; idempotent. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    closeQuietly(serverSocket);
    for (Socket socket : live) {
      closeQuietly(socket);
      live.remove(socket); // closed now, whenever its serving thread notices
    }
    pool.shutdownNow();
  }

  private void acceptLoop() {
    while (!closed) {
      Socket socket;
      try {
        socket = serverSocket.accept();
      } catch (IOException e) {
        if (!closed) {
          failures.add(e);
        }
        return;
      }
      accepted.incrementAndGet();
      live.add(socket);
      if (closed) {
        // close() may have run between accept() and add(); do not leave this one behind.
        closeQuietly(socket);
        live.remove(socket);
        return;
      }
      try {
        pool.execute(() -> serve(socket));
      } catch (java.util.concurrent.RejectedExecutionException shutDown) {
        closeQuietly(socket); // close() shut the pool down meanwhile
        live.remove(socket);
        return;
      }
    }
  }

  private void serve(Socket socket) {
    try (socket) {
      if (socket instanceof SSLSocket tls) {
        tls.startHandshake();
        serverNames.add(requestedHostName(tls.getSession()));
      }
      handler.handle(socket);
    } catch (Exception e) {
      if (!closed) {
        failures.add(e);
      }
    } finally {
      live.remove(socket);
    }
  }

  private static String requestedHostName(SSLSession session) {
    if (session instanceof ExtendedSSLSession) {
      for (SNIServerName name : ((ExtendedSSLSession) session).getRequestedServerNames()) {
        if (name instanceof SNIHostName) {
          return ((SNIHostName) name).getAsciiName();
        }
      }
    }
    return "";
  }

  private static void closeQuietly(AutoCloseable closeable) {
    try {
      closeable.close();
    } catch (Exception ignored) {
      // Shutting down: there is nobody left to tell.
    }
  }

  // --------------------------------------------------------------------------------- handlers

  /**
   * Echoes every byte until the client half-closes, then half-closes too ({@code shutdownOutput()},
   * a TLS {@code close_notify}); data still in flight is written first.
   */
  public static ConnectionHandler echo() {
    return socket -> echoUntilEof(socket);
  }

  /** Writes {@code name + "\n"}, then behaves like {@link #echo()}. */
  public static ConnectionHandler greet(String name) {
    byte[] greeting = (name + "\n").getBytes(StandardCharsets.UTF_8);
    return socket -> {
      OutputStream out = socket.getOutputStream();
      out.write(greeting);
      out.flush();
      echoUntilEof(socket);
    };
  }

  /**
   * A handler that reads exactly {@code bytesToSend} bytes from the client while hashing them (the
   * exchange is symmetric and length-delimited, so it does not depend on how a JDK client
   * half-closes: a layered {@code SSLSocket.shutdownOutput()} sends close_notify but no TCP FIN;
   * TCP half-close is tested separately with plain sockets), and at the same time sends {@code
   * bytesToSend} bytes of {@link DataPattern} with {@link DataPattern#SERVER_SEED}; it then
   * half-closes. The hash of what each connection received is recorded (see {@link
   * Sha256Exchange#lastReceivedSha256()}).
   */
  public static Sha256Exchange sha256Exchange(long bytesToSend) {
    return new Sha256Exchange(bytesToSend);
  }

  private static void echoUntilEof(Socket socket) throws IOException {
    InputStream in = socket.getInputStream();
    OutputStream out = socket.getOutputStream();
    byte[] buffer = new byte[16 * 1024];
    for (int n; (n = in.read(buffer)) != -1; ) {
      out.write(buffer, 0, n);
      out.flush();
    }
    socket.shutdownOutput();
  }

  /** See {@link TlsTestServer#sha256Exchange(long)}. */
  public static final class Sha256Exchange implements ConnectionHandler {
    private final long bytesToSend;
    private final List<Received> received = new CopyOnWriteArrayList<>();

    /** What one connection delivered to the server. */
    public record Received(long bytes, String sha256) {}

    private Sha256Exchange(long bytesToSend) {
      this.bytesToSend = bytesToSend;
    }

    /** How many bytes each connection is sent. */
    public long bytesToSend() {
      return bytesToSend;
    }

    /** SHA-256 (hex) the server expects the client to receive. */
    public String expectedSentSha256() {
      return DataPattern.sha256Hex(DataPattern.SERVER_SEED, bytesToSend);
    }

    /** Hex SHA-256 of what the most recently finished connection received, if any. */
    public Optional<String> lastReceivedSha256() {
      return received.isEmpty()
          ? Optional.empty()
          : Optional.of(received.get(received.size() - 1).sha256());
    }

    /** Per-connection results in completion order. */
    public List<Received> received() {
      return new ArrayList<>(received);
    }

    @Override
    public void handle(Socket socket) throws Exception {
      // Send on a second thread: both directions may carry megabytes, and a single thread
      // alternating between them would deadlock once both peers' buffers fill.
      ExecutorService sender =
          Executors.newSingleThreadExecutor(
              runnable -> {
                Thread thread = new Thread(runnable, "tls-test-server-sender");
                thread.setDaemon(true);
                return thread;
              });
      try {
        Future<?> sent =
            sender.submit(
                () -> {
                  DataPattern.writeTo(
                      socket.getOutputStream(), DataPattern.SERVER_SEED, bytesToSend);
                  return null;
                });
        MessageDigest digest = DataPattern.newSha256();
        InputStream in = socket.getInputStream();
        byte[] buffer = new byte[DataPattern.CHUNK];
        long total = 0;
        while (total < bytesToSend) {
          int n = in.read(buffer, 0, (int) Math.min(buffer.length, bytesToSend - total));
          if (n == -1) {
            break;
          }
          digest.update(buffer, 0, n);
          total += n;
        }
        received.add(new Received(total, HexFormat.of().formatHex(digest.digest())));
        sent.get();
        socket.shutdownOutput();
      } finally {
        sender.shutdownNow();
      }
    }
  }
}
