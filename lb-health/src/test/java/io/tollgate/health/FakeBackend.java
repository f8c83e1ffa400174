package io.tollgate.health;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real loopback server for probes: answers each connection with an HTTP response of the current
 * {@link #status} and {@link #body} (a TCP probe just sees the connect succeed), or with nothing at
 * all when {@link #silent}. {@link #stop} closes it (connects are then refused); {@link #restart}
 * binds the same port again. {@link #answered} counts the HTTP responses sent, so a test can wait
 * for probes to have run instead of sleeping.
 */
final class FakeBackend implements AutoCloseable {
  volatile int status = 200;
  volatile String body = "ok";
  volatile boolean silent;
  final AtomicInteger answered = new AtomicInteger();
  private final int port;
  private final Set<Socket> live = ConcurrentHashMap.newKeySet();
  private volatile ServerSocket server;

  private FakeBackend(int port) throws IOException {
    this.server = bind(port);
    this.port = server.getLocalPort();
    startAccepting(server);
  }

  static FakeBackend start() throws IOException {
    return new FakeBackend(0);
  }

  int port() {
    return port;
  }

  InetSocketAddress address() {
    return new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
  }

  void stop() throws IOException {
    server.close();
    for (Socket s : live) {
      s.close();
    }
  }

  void restart() throws IOException {
    server = bind(port);
    startAccepting(server);
  }

  @Override
  public void close() throws IOException {
    stop();
  }

  private static ServerSocket bind(int port) throws IOException {
    ServerSocket s = new ServerSocket();
    s.setReuseAddress(true);
    s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 50);
    return s;
  }

  private void startAccepting(ServerSocket s) {
    Thread t =
        new Thread(
            () -> {
              while (!s.isClosed()) {
                try {
                  Socket c = s.accept();
                  live.add(c);
                  Thread h = new Thread(() -> serve(c), "fake-backend-conn");
                  h.setDaemon(true);
                  h.start();
                } catch (IOException e) {
                  return;
                }
              }
            },
            "fake-backend-" + port);
    t.setDaemon(true);
    t.start();
  }

  private void serve(Socket c) {
    try (c) {
      InputStream in = c.getInputStream();
      if (silent) {
        while (in.read() >= 0) {
          // hold the connection open, say nothing
        }
        return;
      }
      c.setSoTimeout(2000);
      // Read the request head (a TCP probe sends nothing and closes; that ends the read).
      int matched = 0;
      int b;
      byte[] end = "\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);
      while (matched < 4 && (b = in.read()) >= 0) {
        matched = b == end[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
      }
      if (matched < 4) {
        return;
      }
      byte[] payload = body.getBytes(StandardCharsets.UTF_8);
      OutputStream out = c.getOutputStream();
      out.write(
          ("HTTP/1.1 "
                  + status
                  + " X\r\nContent-Length: "
                  + payload.length
                  + "\r\nConnection: close\r\n\r\n")
              .getBytes(StandardCharsets.ISO_8859_1));
      out.write(payload);
      out.flush();
      answered.incrementAndGet();
    } catch (IOException e) {
      // the probe went away; nothing to do
    } finally {
      live.remove(c);
    }
  }
}
