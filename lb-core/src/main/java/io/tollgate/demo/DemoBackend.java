package io.tollgate.demo;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsExchange;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import io.tollgate.pki.IssuedCertificate;
import io.tollgate.pki.TlsProtocols;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSession;

/**
 * A tiny HTTPS origin for the demo and the end-to-end tests: it terminates TLS with its own
 * certificate and answers every {@code GET} with
 *
 * <pre>
 * hello from NAME
 * tls: TLSv1.3
 * sni: a.demo.test
 * </pre>
 *
 * so a client going through Tollgate's passthrough can see which backend it reached, that the
 * backend (not Tollgate) terminated TLS, and which SNI arrived. The {@code sni} line is {@code
 * (none)} when the client sent no SNI. A {@link #plain} backend (behind an offload route) says
 * {@code tls: none (plaintext)}. Built on the JDK's {@link HttpsServer}; no Netty involved.
 */
public final class DemoBackend implements AutoCloseable {
  private static final int THREADS = 4;

  private final String name;
  private final InetSocketAddress bindAddress;
  private final SSLContext sslContext;
  private final AtomicLong requests = new AtomicLong();
  private final AtomicBoolean started = new AtomicBoolean();
  private final AtomicBoolean closed = new AtomicBoolean();
  private volatile HttpServer server;
  private volatile ExecutorService executor;

  /** A backend presenting {@code certificate}; call {@link #start()} to bind. */
  public DemoBackend(String name, InetSocketAddress bindAddress, IssuedCertificate certificate) {
    this(name, bindAddress, certificate.serverContext());
  }

  /** A backend using a ready-made server {@code SSLContext}; call {@link #start()} to bind. */
  public DemoBackend(String name, InetSocketAddress bindAddress, SSLContext sslContext) {
    this.name = Objects.requireNonNull(name, "name");
    this.bindAddress = Objects.requireNonNull(bindAddress, "bindAddress");
    this.sslContext = sslContext;
  }

  /** A plain HTTP backend, for an offload route: Tollgate terminates TLS in front of it. */
  public static DemoBackend plain(String name, InetSocketAddress bindAddress) {
    return new DemoBackend(name, bindAddress, (SSLContext) null);
  }

  /**
   * Binds and starts serving; returns {@code this}. Port 0 picks a free port, read it back with
   * {@link #port()}.
   *
   * @throws UncheckedIOException if the address cannot be bound
   * @throws IllegalStateException if already started or closed
   */
  public DemoBackend start() {
    if (closed.get() || !started.compareAndSet(false, true)) {
      throw new IllegalStateException("backend " + name + " already started or closed");
    }
    try {
      HttpServer https;
      if (sslContext == null) {
        https = HttpServer.create(bindAddress, 64);
      } else {
        HttpsServer tls = HttpsServer.create(bindAddress, 64);
        tls.setHttpsConfigurator(new ModernTls(sslContext));
        https = tls;
      }
      https.createContext("/", this::handle);
      AtomicInteger threadIds = new AtomicInteger();
      executor =
          Executors.newFixedThreadPool(
              THREADS,
              runnable -> {
                String threadName = "demo-backend-" + name + "-" + threadIds.incrementAndGet();
                Thread thread = new Thread(runnable, threadName);
                thread.setDaemon(true);
                return thread;
              });
      https.setExecutor(executor);
      https.start();
      server = https;
      return this;
    } catch (IOException e) {
      throw new UncheckedIOException("backend " + name + " cannot bind " + bindAddress, e);
    }
  }

  /** The name this backend greets with. */
  public String name() {
    return name;
  }

  /** The bound address (with the real port once started). */
  public InetSocketAddress address() {
    HttpServer https = server;
    if (https == null) {
      throw new IllegalStateException("backend " + name + " not started");
    }
    return https.getAddress();
  }

  /** The bound port; useful after binding port 0. */
  public int port() {
    return address().getPort();
  }

  /** How many HTTP requests this backend has answered (any method or path). */
  public long requests() {
    return requests.get();
  }

  /** Stops at once, dropping open connections; safe to call more than once. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    HttpServer https = server;
    if (https != null) {
      https.stop(0);
    }
    ExecutorService pool = executor;
    if (pool != null) {
      pool.shutdownNow();
    }
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      requests.incrementAndGet();
      String method = exchange.getRequestMethod();
      if (!"GET".equals(method) && !"HEAD".equals(method)) {
        exchange.getResponseHeaders().set("Allow", "GET, HEAD");
        exchange.sendResponseHeaders(405, -1);
        return;
      }
      byte[] body = greeting(exchange).getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
      if ("HEAD".equals(method)) {
        exchange.sendResponseHeaders(200, -1);
        return;
      }
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    }
  }

  private String greeting(HttpExchange exchange) {
    String protocol = "none (plaintext)";
    String sni = "(none)";
    if (exchange instanceof HttpsExchange) {
      SSLSession session = ((HttpsExchange) exchange).getSSLSession();
      protocol = session.getProtocol();
      sni = requestedHostName(session);
    }
    return "hello from " + name + "\n" + "tls: " + protocol + "\n" + "sni: " + sni + "\n";
  }

  private static String requestedHostName(SSLSession session) {
    if (session instanceof ExtendedSSLSession) {
      List<SNIServerName> names = ((ExtendedSSLSession) session).getRequestedServerNames();
      for (SNIServerName serverName : names) {
        if (serverName instanceof SNIHostName) {
          return ((SNIHostName) serverName).getAsciiName();
        }
      }
    }
    return "(none)";
  }

  /** Pins TLS 1.3/1.2 and asks for no client certificate. */
  private static final class ModernTls extends HttpsConfigurator {
    ModernTls(SSLContext context) {
      super(context);
    }

    @Override
    public void configure(HttpsParameters parameters) {
      SSLParameters ssl = getSSLContext().getDefaultSSLParameters();
      ssl.setProtocols(TlsProtocols.modern());
      ssl.setNeedClientAuth(false);
      parameters.setSSLParameters(ssl);
    }
  }
}
