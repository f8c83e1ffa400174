package io.tollgate.handshake;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ReferenceCountedOpenSslEngine;
import io.netty.util.concurrent.FastThreadLocal;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;

/**
 * A server engine's first step, run on a {@link HandshakeThreads} thread: hands the engine the
 * client's first bytes (the ClientHello, in one or more records) until it has its first flight to
 * send. The engine writes that flight, or an alert, into its own buffer; the connection's
 * SslHandler sends it once back on the event loop, as after a read it had unwrapped itself.
 *
 * <p>Safe beside the event loop because every engine method is synchronized and the SslHandler has
 * not been given any of these bytes. The loop leaves the engine alone while a step runs: the gate
 * passes a client's end on only once the step is back (a step still waiting for a thread is taken
 * back at once instead, {@link HandshakeGate}), and the step holds a reference to the engine, so a
 * pipeline torn down meanwhile does not free it under the step. Only a close from behind the
 * SslHandler (the handshake timeout, a shutdown) takes the engine's lock meanwhile, and waits.
 */
final class ClientHelloStep {
  /** Room for one record's plaintext; none is expected before the client's Finished. */
  private static final int DST_BYTES = 18 * 1024;

  private static final FastThreadLocal<ByteBuffer[]> DST =
      new FastThreadLocal<>() {
        @Override
        protected ByteBuffer[] initialValue() {
          return new ByteBuffer[] {ByteBuffer.allocateDirect(DST_BYTES)};
        }
      };

  private ClientHelloStep() {}

  /**
   * Unwraps {@code in} (left as it is: the caller skips what was consumed) until the engine wants
   * to write, wants more bytes than there are, or is done.
   *
   * @return bytes consumed
   * @throws SSLException the engine failed without an alert to send
   */
  static int run(SSLEngine engine, ByteBuf[] in) throws SSLException {
    ByteBuffer[] srcs = views(engine, in);
    ByteBuffer[] dst = DST.get();
    int consumed = 0;
    for (; ; ) {
      dst[0].clear();
      SSLEngineResult r =
          srcs.length == 1
              ? engine.unwrap(srcs[0], dst)
              : ((ReferenceCountedOpenSslEngine) engine).unwrap(srcs, dst);
      consumed += r.bytesConsumed();
      if (r.bytesProduced() > 0) {
        // A server's handshake cannot end on the client's first flight; bytes here would be lost.
        throw new SSLException("plaintext before the handshake ended");
      }
      SSLEngineResult.HandshakeStatus hs = r.getHandshakeStatus();
      if (hs == SSLEngineResult.HandshakeStatus.NEED_TASK) {
        Runnable task;
        while ((task = engine.getDelegatedTask()) != null) {
          task.run();
        }
        continue;
      }
      if (r.getStatus() != SSLEngineResult.Status.OK
          || hs != SSLEngineResult.HandshakeStatus.NEED_UNWRAP
          || r.bytesConsumed() == 0
          || !anyRemaining(srcs)) {
        return consumed;
      }
    }
  }

  /**
   * What {@link #drain} took out of an engine: bytes for the client (or {@code null}), and the
   * handshake's failure when the engine reported one after them (an alert, then the exception).
   */
  record Flight(ByteBuf bytes, SSLException failure) {
    static final Flight NONE = new Flight(null, null);
  }

  /**
   * Takes out of a BoringSSL engine what its step made for the client (the server's first flight,
   * or an alert), still on the handshake thread: the loop then only writes these bytes, where the
   * connection's SslHandler would first call the engine again to fetch them (a wrap, which also
   * re-enters the handshake: ~10% of the loop's time under a hello flood, measured with perf). The
   * engine stays where a wrap would leave it, waiting for the client's next flight.
   *
   * @return the bytes ({@code null} when there are none, or the engine is not BoringSSL's: the
   *     SslHandler fetches them then) and the failure the engine reported while giving them
   */
  static Flight drain(SSLEngine engine, ByteBufAllocator alloc) {
    if (!(engine instanceof ReferenceCountedOpenSslEngine)
        || engine.getHandshakeStatus() != SSLEngineResult.HandshakeStatus.NEED_WRAP) {
      return Flight.NONE;
    }
    ByteBuf out = alloc.directBuffer(engine.getSession().getPacketBufferSize());
    ByteBuffer[] nothing = {ByteBuffer.allocate(0)};
    SSLException failure = null;
    try {
      for (; ; ) {
        ByteBuffer dst = out.nioBuffer(out.writerIndex(), out.writableBytes());
        SSLEngineResult r = engine.wrap(nothing, dst);
        out.writerIndex(out.writerIndex() + r.bytesProduced());
        if (r.getStatus() == SSLEngineResult.Status.BUFFER_OVERFLOW) {
          out.ensureWritable(engine.getSession().getPacketBufferSize());
          continue;
        }
        if (r.getStatus() != SSLEngineResult.Status.OK
            || r.bytesProduced() == 0
            || r.getHandshakeStatus() != SSLEngineResult.HandshakeStatus.NEED_WRAP) {
          break;
        }
      }
    } catch (SSLException e) {
      // BoringSSL hands out its alert first and reports the failure on the next wrap.
      failure = e;
    } catch (RuntimeException | Error e) {
      out.release();
      throw e;
    }
    if (!out.isReadable()) {
      out.release();
      return failure == null ? Flight.NONE : new Flight(null, failure);
    }
    return new Flight(out, failure);
  }

  private static ByteBuffer[] views(SSLEngine engine, ByteBuf[] in) {
    List<ByteBuffer> views = new ArrayList<>(in.length + 1);
    for (ByteBuf b : in) {
      if (b.isReadable()) {
        for (ByteBuffer v : b.nioBuffers()) {
          views.add(v);
        }
      }
    }
    if (views.size() == 1 || engine instanceof ReferenceCountedOpenSslEngine) {
      return views.isEmpty()
          ? new ByteBuffer[] {ByteBuffer.allocate(0)}
          : views.toArray(new ByteBuffer[0]);
    }
    // Another provider's engine takes one source buffer: one copy (a hello in several reads).
    int n = 0;
    for (ByteBuffer v : views) {
      n += v.remaining();
    }
    ByteBuffer one = ByteBuffer.allocate(n);
    for (ByteBuffer v : views) {
      one.put(v.duplicate());
    }
    return new ByteBuffer[] {one.flip()};
  }

  private static boolean anyRemaining(ByteBuffer[] srcs) {
    for (ByteBuffer b : srcs) {
      if (b.hasRemaining()) {
        return true;
      }
    }
    return false;
  }
}
