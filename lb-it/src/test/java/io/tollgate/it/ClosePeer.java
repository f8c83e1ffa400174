package io.tollgate.it;

import io.tollgate.testkit.DataPattern;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.util.HexFormat;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLParameters;

/**
 * One end of a connection in the close-pattern tests, over a plain socket, with the ways a peer can
 * end its output spelled out: FIN, close_notify without FIN, data + close_notify + FIN in one
 * write, a reset. The TLS variant drives an {@link SSLEngine} itself so the test decides exactly
 * which bytes leave in which write (an SSLSocket writes close_notify and data separately, and sends
 * FIN only when it pleases). One thread reads, at most one other writes.
 */
interface ClosePeer extends AutoCloseable {
  /** How the input of a peer ended. */
  enum End {
    /** TLS close_notify, or FIN on a plain connection: everything sent arrived. */
    CLEAN,
    /** TLS: a FIN without close_notify before it (the stream may be truncated). */
    FIN_WITHOUT_CLOSE_NOTIFY,
    /** The connection was reset. */
    RESET
  }

  /** What a peer read: byte count, SHA-256, and how its input ended. */
  record Received(long bytes, String sha256, End end) {}

  Socket socket();

  /** Reads plaintext: -1 at a clean end; EOFException at FIN_WITHOUT_CLOSE_NOTIFY. */
  int read(byte[] buffer) throws IOException;

  /** Sends {@code data} (TLS: as records). */
  void write(byte[] data) throws IOException;

  /**
   * Sends {@code data}, then ends this direction (TLS: close_notify) in the same write; with {@code
   * fin} the TCP FIN follows at once.
   */
  void writeAndEnd(byte[] data, boolean fin) throws IOException;

  /** Half-close: close_notify (TLS) and FIN; reading goes on. */
  default void halfClose() throws IOException {
    writeAndEnd(new byte[0], true);
  }

  /** Closes with SO_LINGER 0: the other end sees a TCP RST. */
  default void reset() throws IOException {
    socket().setSoLinger(true, 0);
    socket().close();
  }

  /** Ends output as {@link #halfClose()} unless done already, then closes the socket. */
  @Override
  void close() throws IOException;

  /** Writes {@code length} bytes of {@link DataPattern} for {@code seed} in 64 KiB pieces. */
  default void writePattern(long seed, long length) throws IOException {
    DataPattern pattern = new DataPattern(seed);
    byte[] chunk = new byte[DataPattern.CHUNK];
    for (long left = length; left > 0; ) {
      int n = (int) Math.min(chunk.length, left);
      pattern.nextBytes(chunk, 0, n);
      write(n == chunk.length ? chunk : java.util.Arrays.copyOf(chunk, n));
      left -= n;
    }
  }

  /** Reads and hashes until the end of input, or until {@code limit} bytes. */
  default Received read(long limit) throws IOException {
    var digest = sha256();
    byte[] buffer = new byte[DataPattern.CHUNK];
    long total = 0;
    End end = null;
    try {
      while (total < limit) {
        byte[] into = limit - total >= buffer.length ? buffer : new byte[(int) (limit - total)];
        int n = read(into);
        if (n < 0) {
          end = End.CLEAN;
          break;
        }
        digest.update(into, 0, n);
        total += n;
      }
    } catch (EOFException e) {
      end = End.FIN_WITHOUT_CLOSE_NOTIFY;
    } catch (SocketException e) {
      end = End.RESET;
    }
    return new Received(total, HexFormat.of().formatHex(digest.digest()), end);
  }

  default Received readToEnd() throws IOException {
    return read(Long.MAX_VALUE);
  }

  private static java.security.MessageDigest sha256() {
    try {
      return java.security.MessageDigest.getInstance("SHA-256");
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  static ClosePeer plain(Socket socket) {
    return new Plain(socket);
  }

  /** A TLS client (SNI and verified name {@code sni}) over {@code socket}; handshakes now. */
  static ClosePeer tlsClient(Socket socket, SSLContext context, String sni) throws IOException {
    SSLEngine engine = context.createSSLEngine(sni, socket.getPort());
    engine.setUseClientMode(true);
    SSLParameters p = engine.getSSLParameters();
    p.setServerNames(List.of(new SNIHostName(sni)));
    p.setEndpointIdentificationAlgorithm("HTTPS");
    p.setProtocols(new String[] {"TLSv1.3", "TLSv1.2"});
    engine.setSSLParameters(p);
    return new EngineTls(socket, engine).handshake();
  }

  /** A TLS server over an accepted {@code socket}; handshakes now. */
  static ClosePeer tlsServer(Socket socket, SSLContext context) throws IOException {
    SSLEngine engine = context.createSSLEngine();
    engine.setUseClientMode(false);
    engine.setEnabledProtocols(new String[] {"TLSv1.3", "TLSv1.2"});
    return new EngineTls(socket, engine).handshake();
  }

  /** Plain TCP. */
  final class Plain implements ClosePeer {
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    Plain(Socket socket) {
      this.socket = socket;
      try {
        in = socket.getInputStream();
        out = socket.getOutputStream();
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }

    @Override
    public Socket socket() {
      return socket;
    }

    @Override
    public int read(byte[] buffer) throws IOException {
      return in.read(buffer);
    }

    @Override
    public void write(byte[] data) throws IOException {
      out.write(data);
    }

    @Override
    public void writeAndEnd(byte[] data, boolean fin) throws IOException {
      out.write(data);
      if (fin) {
        socket.shutdownOutput();
      }
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  /** TLS through an SSLEngine over a plain socket. */
  final class EngineTls implements ClosePeer {
    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);
    private final Socket socket;
    private final SSLEngine engine;
    private final InputStream in;
    private final OutputStream out;
    private final byte[] readBuffer = new byte[64 * 1024];
    private ByteBuffer netIn = ByteBuffer.allocate(64 * 1024).flip(); // read mode
    private ByteBuffer appIn = ByteBuffer.allocate(64 * 1024); // write mode
    private boolean closeNotifyReceived;
    private boolean outputEnded;

    EngineTls(Socket socket, SSLEngine engine) throws IOException {
      this.socket = socket;
      this.engine = engine;
      this.in = socket.getInputStream();
      this.out = socket.getOutputStream();
    }

    EngineTls handshake() throws IOException {
      engine.beginHandshake();
      HandshakeStatus hs = engine.getHandshakeStatus();
      while (hs != HandshakeStatus.FINISHED && hs != HandshakeStatus.NOT_HANDSHAKING) {
        switch (hs) {
          case NEED_WRAP -> {
            ByteArrayOutputStream records = new ByteArrayOutputStream();
            hs = wrap(EMPTY, records).getHandshakeStatus();
            out.write(records.toByteArray());
          }
          case NEED_TASK -> {
            runTasks();
            hs = engine.getHandshakeStatus();
          }
          default -> {
            SSLEngineResult r = engine.unwrap(netIn, appIn);
            if (r.getStatus() == SSLEngineResult.Status.BUFFER_UNDERFLOW) {
              fill();
            } else if (r.getStatus() == SSLEngineResult.Status.CLOSED) {
              throw new SSLHandshakeEnded("peer closed during the handshake");
            }
            hs = r.getHandshakeStatus();
          }
        }
      }
      return this;
    }

    @Override
    public Socket socket() {
      return socket;
    }

    @Override
    public int read(byte[] buffer) throws IOException {
      while (true) {
        if (appIn.position() > 0) {
          appIn.flip();
          int n = Math.min(buffer.length, appIn.remaining());
          appIn.get(buffer, 0, n);
          appIn.compact();
          return n;
        }
        if (closeNotifyReceived) {
          return -1;
        }
        SSLEngineResult r = engine.unwrap(netIn, appIn);
        switch (r.getStatus()) {
          case CLOSED -> closeNotifyReceived = true;
          case BUFFER_UNDERFLOW -> fill();
          case BUFFER_OVERFLOW ->
              appIn = grow(appIn, engine.getSession().getApplicationBufferSize());
          default -> {
            if (r.getHandshakeStatus() == HandshakeStatus.NEED_TASK) {
              runTasks();
            }
          }
        }
      }
    }

    @Override
    public void write(byte[] data) throws IOException {
      ByteArrayOutputStream records = new ByteArrayOutputStream(data.length + 256);
      ByteBuffer src = ByteBuffer.wrap(data);
      while (src.hasRemaining()) {
        wrap(src, records);
      }
      out.write(records.toByteArray());
    }

    @Override
    public void writeAndEnd(byte[] data, boolean fin) throws IOException {
      ByteArrayOutputStream records = new ByteArrayOutputStream(data.length + 256);
      ByteBuffer src = ByteBuffer.wrap(data);
      while (src.hasRemaining()) {
        wrap(src, records);
      }
      engine.closeOutbound();
      while (!engine.isOutboundDone()) {
        if (wrap(EMPTY, records).bytesProduced() == 0) {
          break;
        }
      }
      outputEnded = true;
      out.write(records.toByteArray()); // one write: data records and close_notify together
      if (fin) {
        socket.shutdownOutput();
      }
    }

    @Override
    public void close() throws IOException {
      try {
        if (!outputEnded && !socket.isClosed() && !socket.isOutputShutdown()) {
          writeAndEnd(new byte[0], false);
        }
      } catch (IOException e) {
        // the other end is gone already; closing is all that is left
      } finally {
        socket.close();
      }
    }

    private SSLEngineResult wrap(ByteBuffer src, ByteArrayOutputStream into) throws IOException {
      ByteBuffer dst = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
      SSLEngineResult r = engine.wrap(src, dst);
      if (r.getStatus() == SSLEngineResult.Status.BUFFER_OVERFLOW) {
        throw new IOException("record larger than the packet buffer size");
      }
      if (r.getHandshakeStatus() == HandshakeStatus.NEED_TASK) {
        runTasks();
      }
      into.write(dst.array(), 0, dst.position());
      return r;
    }

    /** Reads more network bytes; EOFException at FIN, SocketException at a reset. */
    private void fill() throws IOException {
      int n = in.read(readBuffer);
      if (n < 0) {
        throw new EOFException("FIN without close_notify");
      }
      netIn.compact();
      if (netIn.remaining() < n) {
        netIn = grow(netIn, n);
      }
      netIn.put(readBuffer, 0, n).flip();
    }

    private static ByteBuffer grow(ByteBuffer writeMode, int extra) {
      ByteBuffer bigger = ByteBuffer.allocate(writeMode.capacity() + extra + 16 * 1024);
      writeMode.flip();
      bigger.put(writeMode);
      return bigger;
    }

    private void runTasks() {
      for (Runnable task; (task = engine.getDelegatedTask()) != null; ) {
        task.run();
      }
    }
  }

  /** The peer closed before the handshake was done. */
  final class SSLHandshakeEnded extends IOException {
    SSLHandshakeEnded(String message) {
      super(message);
    }
  }
}
