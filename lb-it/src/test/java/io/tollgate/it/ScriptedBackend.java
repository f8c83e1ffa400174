package io.tollgate.it;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;

/**
 * A backend whose every accepted connection runs the next script a test queued with {@link #next}:
 * the test decides, connection by connection, what the backend sends and how it ends (see {@link
 * ClosePeer}). Plain TCP, or TLS with {@code context} (handshake done before the script runs). A
 * connection nobody queued a script for is closed after 5 s.
 */
final class ScriptedBackend implements AutoCloseable {
  /** What the backend does on one connection. */
  @FunctionalInterface
  interface Script<T> {
    T run(ClosePeer peer) throws Exception;
  }

  private record Queued(Script<?> script, CompletableFuture<Object> result) {}

  private final ServerSocket server;
  private final SSLContext context;
  private final BlockingQueue<Queued> scripts = new LinkedBlockingQueue<>();
  private final ExecutorService threads =
      Executors.newCachedThreadPool(
          r -> {
            Thread t = new Thread(r, "scripted-backend");
            t.setDaemon(true);
            return t;
          });

  /**
   * @param context TLS server context, or null for plain TCP
   */
  ScriptedBackend(SSLContext context) throws IOException {
    this.context = context;
    this.server = new ServerSocket(0, 128, InetAddress.getLoopbackAddress());
    threads.execute(this::acceptLoop);
  }

  int port() {
    return server.getLocalPort();
  }

  /** Queues the script for the next accepted connection; the future has what it returned. */
  @SuppressWarnings("unchecked")
  <T> CompletableFuture<T> next(Script<T> script) {
    CompletableFuture<Object> result = new CompletableFuture<>();
    scripts.add(new Queued(script, result));
    return (CompletableFuture<T>) result;
  }

  /** Drops scripts no connection took (a case that failed before its backend was reached). */
  void clear() {
    scripts.clear();
  }

  private void acceptLoop() {
    while (!server.isClosed()) {
      Socket socket;
      try {
        socket = server.accept();
      } catch (IOException e) {
        return;
      }
      threads.execute(() -> serve(socket));
    }
  }

  private void serve(Socket socket) {
    Queued queued = null;
    try (socket) {
      socket.setSoTimeout(30_000);
      queued = scripts.poll(5, TimeUnit.SECONDS);
      if (queued == null) {
        return;
      }
      ClosePeer peer =
          context == null ? ClosePeer.plain(socket) : ClosePeer.tlsServer(socket, context);
      queued.result().complete(queued.script().run(peer));
    } catch (Throwable e) {
      if (queued != null) {
        queued.result().completeExceptionally(e);
      }
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
    threads.shutdownNow();
  }
}
