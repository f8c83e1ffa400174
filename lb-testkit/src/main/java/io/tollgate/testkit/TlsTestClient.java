package io.tollgate.testkit;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.ReferenceCountUtil;
import io.tollgate.pki.CertificateAuthority;
import io.tollgate.pki.TlsProtocols;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/**
 * The one TLS client of the tests. The static forms open an {@link SSLSocket} that sends a chosen
 * SNI and verifies the server certificate for a chosen name against a test CA, then offer small
 * conversations (a raw HTTP/1.1 GET, a bidirectional SHA-256 checked transfer).
 *
 * <p>{@link #to(int)} starts an offer with exactly the protocols, cipher suites, ALPN list and
 * client certificate a test wants, then either {@link #connect()}s a JDK socket or runs a one-shot
 * {@link #handshake()} on a Netty engine (BoringSSL by default: unlike the JDK, it still speaks TLS
 * 1.0/1.1 and legacy suites, so tests can check that a server refuses them).
 */
public final class TlsTestClient {
  /** Connect, handshake and read timeout used by the short forms. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

  private static final int OFFER_TIMEOUT_MILLIS = 5_000;

  private final int port;
  private String sni;
  private List<String> protocols = List.of(TlsProtocols.modern());
  private List<String> ciphers;
  private List<String> alpn = List.of();
  private TrustManagerFactory trust;
  private KeyManagerFactory keys;
  private SSLContext context;
  private SslProvider provider = SslProvider.OPENSSL;

  private TlsTestClient(int port) {
    this.port = port;
  }

  /** An offer to {@code 127.0.0.1:port}: TLS 1.3 and 1.2, no SNI, no ALPN, no trust yet. */
  public static TlsTestClient to(int port) {
    return new TlsTestClient(port);
  }

  /** SNI to send and the name the certificate must match (HTTPS endpoint identification). */
  public TlsTestClient sni(String name) {
    this.sni = name;
    return this;
  }

  public TlsTestClient protocols(String... protocols) {
    this.protocols = List.of(protocols);
    return this;
  }

  public TlsTestClient ciphers(String... ciphers) {
    this.ciphers = List.of(ciphers);
    return this;
  }

  public TlsTestClient alpn(String... protocols) {
    this.alpn = List.of(protocols);
    return this;
  }

  /** Roots the server certificate must chain to. */
  public TlsTestClient trust(TrustManagerFactory trust) {
    this.trust = trust;
    return this;
  }

  /** A client certificate to present. */
  public TlsTestClient clientCertificate(KeyManagerFactory keys) {
    this.keys = keys;
    return this;
  }

  /**
   * For {@link #connect()}: trust and key managers in one context instead of {@link #trust} and
   * {@link #clientCertificate}; reusing one context lets the JDK resume sessions.
   */
  public TlsTestClient context(SSLContext context) {
    this.context = context;
    return this;
  }

  /** For {@link #handshake()}: the engine ({@link SslProvider#OPENSSL}, BoringSSL, by default). */
  public TlsTestClient provider(SslProvider provider) {
    this.provider = provider;
    return this;
  }

  /** A JDK client context with these key (may be null) and trust managers. */
  public static SSLContext context(KeyManagerFactory keys, TrustManagerFactory trust) {
    try {
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(keys == null ? null : keys.getKeyManagers(), trust.getTrustManagers(), null);
      return context;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The server's leaf certificate. */
  public static X509Certificate peer(SSLSocket socket) throws IOException {
    return (X509Certificate) socket.getSession().getPeerCertificates()[0];
  }

  /** Connects a JDK socket and completes the handshake; the caller closes the socket. */
  public SSLSocket connect() throws IOException {
    SSLContext jdk = context != null ? context : context(keys, trust);
    Socket plain = new Socket();
    try {
      plain.connect(
          new InetSocketAddress(InetAddress.getLoopbackAddress(), port), OFFER_TIMEOUT_MILLIS);
      plain.setSoTimeout(OFFER_TIMEOUT_MILLIS);
      String host = sni != null ? sni : "127.0.0.1";
      SSLSocket socket = (SSLSocket) jdk.getSocketFactory().createSocket(plain, host, port, true);
      SSLParameters parameters = socket.getSSLParameters();
      parameters.setProtocols(protocols.toArray(new String[0]));
      if (ciphers != null) {
        parameters.setCipherSuites(ciphers.toArray(new String[0]));
      }
      if (!alpn.isEmpty()) {
        parameters.setApplicationProtocols(alpn.toArray(new String[0]));
      }
      parameters.setServerNames(sni == null ? List.of() : List.of(new SNIHostName(sni)));
      parameters.setEndpointIdentificationAlgorithm(sni == null ? null : "HTTPS");
      socket.setSSLParameters(parameters);
      socket.startHandshake();
      return socket;
    } catch (IOException | RuntimeException e) {
      plain.close();
      throw e;
    }
  }

  /** What a finished {@link #handshake()} negotiated, or why it failed. */
  public record Handshake(
      boolean success,
      Throwable failure,
      String protocol,
      String cipher,
      String alpn,
      X509Certificate peer) {
    public String peerKeyAlgorithm() {
      return peer.getPublicKey().getAlgorithm();
    }
  }

  /** Handshakes on a Netty engine, then closes; never throws for a TLS failure. */
  public Handshake handshake() throws Exception {
    SslContextBuilder builder =
        SslContextBuilder.forClient()
            .sslProvider(provider)
            .trustManager(trust)
            .protocols(protocols)
            .ciphers(ciphers)
            .keyManager(keys);
    if (!alpn.isEmpty()) {
      builder.applicationProtocolConfig(
          new ApplicationProtocolConfig(
              ApplicationProtocolConfig.Protocol.ALPN,
              ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
              ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
              alpn));
    }
    SslContext netty = builder.build();
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    try {
      SslHandler[] handler = new SslHandler[1];
      Channel channel =
          new Bootstrap()
              .group(group)
              .channel(NioSocketChannel.class)
              .handler(
                  new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                      handler[0] = netty.newHandler(ch.alloc(), sni, port);
                      handler[0].setHandshakeTimeoutMillis(10_000);
                      ch.pipeline().addLast(handler[0]);
                      // The handshake future carries failures; keep them out of the log.
                      ch.pipeline()
                          .addLast(
                              new ChannelInboundHandlerAdapter() {
                                @Override
                                public void exceptionCaught(
                                    ChannelHandlerContext ctx, Throwable cause) {
                                  ctx.close();
                                }
                              });
                    }
                  })
              .connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port))
              .sync()
              .channel();
      try {
        if (!handler[0].handshakeFuture().await(15, TimeUnit.SECONDS)) {
          throw new AssertionError("handshake did not finish");
        }
        if (!handler[0].handshakeFuture().isSuccess()) {
          return new Handshake(false, handler[0].handshakeFuture().cause(), null, null, null, null);
        }
        SSLSession session = handler[0].engine().getSession();
        return new Handshake(
            true,
            null,
            session.getProtocol(),
            session.getCipherSuite(),
            handler[0].applicationProtocol(),
            (X509Certificate) session.getPeerCertificates()[0]);
      } finally {
        channel.close().sync();
      }
    } finally {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
      ReferenceCountUtil.release(netty);
    }
  }

  /** An established connection and what the handshake revealed about the server. */
  public record Connection(
      SSLSocket socket, X509Certificate peerCertificate, List<String> peerDnsNames, String protocol)
      implements AutoCloseable {
    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  /**
   * Connects to {@code 127.0.0.1:port} sending SNI {@code name} and requiring a certificate valid
   * for {@code name} that chains to {@code ca}'s root.
   */
  public static Connection connect(int port, String name, CertificateAuthority ca) {
    return connect(
        new InetSocketAddress(InetAddress.getLoopbackAddress(), port),
        name,
        name,
        ca.clientContext(),
        DEFAULT_TIMEOUT);
  }

  /**
   * Connects and completes the handshake.
   *
   * @param sniName SNI to send, or {@code null} to send none
   * @param verifyName name the server certificate must match ({@code HTTPS} endpoint
   *     identification), or {@code null} to check only the chain; the JDK also accepts a
   *     certificate that matches {@code sniName}, so pass equal names for a strict check
   * @param context supplies the trust managers (e.g. {@link CertificateAuthority#clientContext()})
   * @param timeout bounds connect and handshake, and stays as the read timeout
   * @throws UncheckedIOException when connecting or the handshake fails (the cause says why, e.g.
   *     an {@code SSLHandshakeException} for an untrusted or mismatched certificate)
   */
  public static Connection connect(
      InetSocketAddress address,
      String sniName,
      String verifyName,
      SSLContext context,
      Duration timeout) {
    return connect(address, sniName, verifyName, context, timeout, List.of(TlsProtocols.modern()));
  }

  /**
   * Like {@link #connect(InetSocketAddress, String, String, SSLContext, Duration)} but offering
   * only {@code protocols}, e.g. {@code List.of("TLSv1.2")} to exercise TLS 1.2 paths.
   */
  public static Connection connect(
      InetSocketAddress address,
      String sniName,
      String verifyName,
      SSLContext context,
      Duration timeout,
      List<String> protocols) {
    int millis = Math.toIntExact(timeout.toMillis());
    Socket plain = new Socket();
    try {
      plain.connect(address, millis);
    } catch (IOException e) {
      closeQuietly(plain);
      throw new UncheckedIOException("TLS connection to " + address + " failed: " + e, e);
    }
    return over(plain, sniName, verifyName, context, timeout, protocols);
  }

  /**
   * Completes a TLS handshake over {@code plain}, a socket connected already (for example one that
   * waited in an accept queue), sending SNI {@code name} and requiring a certificate valid for it
   * that chains to {@code ca}'s root. Closes {@code plain} when the handshake fails.
   */
  public static Connection over(Socket plain, String name, CertificateAuthority ca) {
    return over(
        plain, name, name, ca.clientContext(), DEFAULT_TIMEOUT, List.of(TlsProtocols.modern()));
  }

  private static Connection over(
      Socket plain,
      String sniName,
      String verifyName,
      SSLContext context,
      Duration timeout,
      List<String> protocols) {
    int millis = Math.toIntExact(timeout.toMillis());
    InetSocketAddress address = (InetSocketAddress) plain.getRemoteSocketAddress();
    try {
      plain.setSoTimeout(millis);
      plain.setTcpNoDelay(true);
      // The JDK checks the certificate against the SNI name and, failing that, the host the
      // socket was created for; creating it for verifyName makes that name count.
      String peerHost =
          verifyName != null ? verifyName : sniName != null ? sniName : address.getHostString();
      SSLSocket socket =
          (SSLSocket)
              context.getSocketFactory().createSocket(plain, peerHost, address.getPort(), true);
      SSLParameters parameters = socket.getSSLParameters();
      parameters.setProtocols(protocols.toArray(new String[0]));
      parameters.setServerNames(sniName == null ? List.of() : List.of(new SNIHostName(sniName)));
      parameters.setEndpointIdentificationAlgorithm(verifyName == null ? null : "HTTPS");
      socket.setSSLParameters(parameters);
      socket.startHandshake();
      X509Certificate peer = (X509Certificate) socket.getSession().getPeerCertificates()[0];
      return new Connection(socket, peer, dnsNames(peer), socket.getSession().getProtocol());
    } catch (IOException e) {
      closeQuietly(plain);
      throw new UncheckedIOException("TLS connection to " + address + " failed: " + e, e);
    } catch (RuntimeException e) {
      closeQuietly(plain);
      throw e;
    }
  }

  /** The {@code dNSName} entries of the certificate's subject alternative names. */
  public static List<String> dnsNames(X509Certificate certificate) {
    try {
      Collection<List<?>> entries = certificate.getSubjectAlternativeNames();
      List<String> names = new ArrayList<>();
      if (entries != null) {
        for (List<?> entry : entries) {
          if (Integer.valueOf(2).equals(entry.get(0))) {
            names.add((String) entry.get(1));
          }
        }
      }
      return List.copyOf(names);
    } catch (CertificateParsingException e) {
      throw new IllegalArgumentException("unreadable subject alternative names", e);
    }
  }

  /**
   * Sends {@code GET path HTTP/1.1} with {@code Host: host} and {@code Connection: close}, and
   * returns the whole raw response (status line, headers, body) read until EOF.
   */
  public static String httpGet(SSLSocket socket, String host, String path) throws IOException {
    String request = "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n";
    OutputStream out = socket.getOutputStream();
    out.write(request.getBytes(StandardCharsets.US_ASCII));
    out.flush();
    return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
  }

  /** What {@link #sha256Exchange} received from the server. */
  public record ExchangeResult(long bytesReceived, String receivedSha256) {}

  /**
   * Sends {@code bytesToSend} bytes of {@link DataPattern} ({@link DataPattern#CLIENT_SEED}) and
   * does not half-close (the server reads exactly as many bytes), while concurrently reading and
   * hashing everything the server sends until EOF. Pairs with {@link
   * TlsTestServer#sha256Exchange(long)}.
   */
  public static ExchangeResult sha256Exchange(SSLSocket socket, long bytesToSend)
      throws IOException {
    CompletableFuture<Void> sent =
        CompletableFuture.runAsync(
            () -> {
              try {
                DataPattern.writeTo(socket.getOutputStream(), DataPattern.CLIENT_SEED, bytesToSend);
                socket.getOutputStream().flush();
              } catch (IOException e) {
                throw new UncheckedIOException(e);
              }
            },
            runnable -> {
              Thread thread = new Thread(runnable, "tls-test-client-sender");
              thread.setDaemon(true);
              thread.start();
            });
    MessageDigest digest = DataPattern.newSha256();
    InputStream in = socket.getInputStream();
    byte[] buffer = new byte[DataPattern.CHUNK];
    long total = 0;
    for (int n; (n = in.read(buffer)) != -1; ) {
      digest.update(buffer, 0, n);
      total += n;
    }
    try {
      sent.get(DEFAULT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while sending", e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IOException("sending failed", e.getCause() != null ? e.getCause() : e);
    }
    return new ExchangeResult(total, HexFormat.of().formatHex(digest.digest()));
  }

  /** Reads until EOF and returns what arrived (small responses only). */
  public static byte[] readToEof(SSLSocket socket) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    socket.getInputStream().transferTo(out);
    return out.toByteArray();
  }

  private static void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException ignored) {
      // Already failing; the original exception is what matters.
    }
  }
}
