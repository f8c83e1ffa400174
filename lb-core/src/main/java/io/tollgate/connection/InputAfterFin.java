package io.tollgate.connection;

import io.netty.channel.Channel;
import io.netty.util.concurrent.FastThreadLocal;

/**
 * How a socket is read once its peer's FIN has arrived.
 *
 * <p>Netty's epoll transport, told of a peer's FIN ({@code EPOLLRDHUP}), reads that socket to its
 * end in one go, though reading is paused and no read was asked for. So a client that sends a large
 * upload and its FIN while the backend does not read had all of it that sat in Tollgate's socket
 * (up to {@code net.ipv4.tcp_rmem}'s maximum, 6 MiB with stock settings) moved into Tollgate's
 * memory at once, to wait for the backend there. {@link #backpressured} keeps such a socket's reads
 * where the relay's backpressure puts them: the FIN is found as a read of zero bytes, after the
 * data, whenever reading resumes. Netty's own way ({@link #toEnd}) is for a splice, which cannot
 * tell the end of a stream from a socket with nothing to read and learns of the end only from that
 * event, and for a socket that must hear of its peer leaving while it is not read (the refusal
 * tarpit).
 *
 * <p>Netty's io_uring channels do the same when their POLLRDHUP poll completes, and are marked the
 * same way. A mark is taken on the socket's own event loop; where the loop's I/O handler has no
 * such choice (NIO, which reads only what is asked for anyway) it is ignored.
 */
public final class InputAfterFin {
  /** A loop's I/O handler that can keep a socket's reads paused after its peer's FIN. */
  public interface Reads {
    /**
     * Whether {@code channel} (registered on the calling loop) is read under backpressure after its
     * peer's FIN ({@code true}) or to its end at once, as Netty does ({@code false}).
     */
    void backpressuredAfterFin(Channel channel, boolean backpressured);
  }

  private static final FastThreadLocal<Reads> LOOP = new FastThreadLocal<>();

  private InputAfterFin() {}

  /** Called on a loop's thread by the I/O handler that runs there. */
  public static void install(Reads reads) {
    LOOP.set(reads);
  }

  /** The calling loop's I/O handler when it can keep reads paused after a FIN, else null. */
  public static Reads onThisLoop() {
    return LOOP.getIfExists();
  }

  /** After its peer's FIN, {@code channel} is read only while reading is on, as before it. */
  public static void backpressured(Channel channel) {
    mark(channel, true);
  }

  /** After its peer's FIN, {@code channel} is read to its end at once (Netty's way). */
  public static void toEnd(Channel channel) {
    mark(channel, false);
  }

  private static void mark(Channel channel, boolean backpressured) {
    Reads reads = LOOP.getIfExists();
    if (reads != null && channel.eventLoop().inEventLoop()) {
      reads.backpressuredAfterFin(channel, backpressured);
    }
  }
}
