package io.tollgate.listener;

import io.netty.channel.Channel;
import io.netty.channel.IoHandle;
import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.IoOps;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollIoOps;
import io.tollgate.connection.InputAfterFin;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Netty's epoll {@link IoHandler}, mended so that a socket it took out of epoll can be watched
 * again, and so that a socket whose peer sent its FIN is read under backpressure.
 *
 * <p>Why the first: Netty 4.2 (4.2.18 and 4.2.21 alike) deletes a channel's fd from epoll when the
 * channel stops waiting for any event (a mask of 0), but keeps its registration marked as added, so
 * the next request for an event is an {@code EPOLL_CTL_MOD} that fails with ENOENT, and Netty
 * closes the channel. A socket gets there after its peer's FIN (Netty drops the read and hang-up
 * interest once the input ended) whenever it also has nothing to write: a client that half-closed
 * right behind its request and then reads a large answer slowly lost the rest of it as soon as
 * Tollgate had to wait for its socket to drain (reproduced: 4 of 32 MiB arrived), and any resume of
 * reading after an event for an old socket with the same number had cleared the new one's interest
 * failed the same way. How: each registration remembers that Netty added its fd and then, at a
 * request for no event, took it out; the next request for an event cancels that registration and
 * registers the channel's handle again, which adds the fd anew. The channel keeps its registration
 * object (this one), and events reach it as before.
 *
 * <p>Why the second ({@link InputAfterFin}): told of a peer's FIN ({@code EPOLLRDHUP}), Netty's
 * channel reads the socket to its end at once, with reading off and no read asked for. How: a
 * marked socket's registration leaves {@code EPOLLRDHUP} out of the interest it gives the kernel,
 * so the channel never hears of the FIN as such: it reads the socket as any readable one (only
 * while reading is on) and finds the end as a read of zero bytes. Left out of the interest, not
 * filtered out of the events: Netty's epoll is level-triggered, and a hang-up left in the interest
 * but not acted on is reported again at every wait (a busy loop, measured at twice the CPU per
 * connection). While reading is off and nothing waits to be written, a marked socket's interest is
 * {@code EPOLLET} alone: it stays watched, an error (a reset) is reported once and Netty's read
 * finds it, and a hang-up after both FINs is reported once and ignored, where a level-triggered one
 * would be reported at every wait.
 */
final class RearmingEpollIoHandler extends DelegatingIoHandler implements InputAfterFin.Reads {
  private static final int RDHUP = EpollIoOps.EPOLLRDHUP.value();

  /**
   * This loop's registrations by the channel's own handle ({@code channel.unsafe()}), for {@link
   * #backpressuredAfterFin}. Changed on the loop's thread only.
   */
  private final Map<IoHandle, Registration> byHandle = new IdentityHashMap<>();

  private Thread loopThread;

  private RearmingEpollIoHandler(IoHandler epoll) {
    super(epoll);
  }

  @Override
  public void initialize() {
    super.initialize();
    loopThread = Thread.currentThread();
    InputAfterFin.install(this);
  }

  @Override
  public void backpressuredAfterFin(Channel channel, boolean backpressured) {
    Registration r = byHandle.get(channel.unsafe());
    if (r != null) {
      r.backpressuredAfterFin(backpressured);
    }
  }

  /** Registrations this loop knows by their channel (tests; on the loop). */
  int registrations() {
    return byHandle.size();
  }

  /** Epoll's own factory, each handler it makes wrapped. */
  static IoHandlerFactory newFactory() {
    return wrapping(EpollIoHandler.newFactory(), RearmingEpollIoHandler::new);
  }

  @Override
  public IoRegistration register(IoHandle handle) throws Exception {
    Registration r = new Registration(handle, netty.register(handle));
    byHandle.put(handle, r); // on the loop: Netty registers there
    return r;
  }

  /** Used on the loop's thread only, as Netty's own (submit is called from the channel's loop). */
  private final class Registration implements IoRegistration {
    private final IoHandle handle;
    private IoRegistration current;

    /** See {@link InputAfterFin}: {@code EPOLLRDHUP} is left out of the kernel's interest. */
    private boolean backpressuredAfterFin;

    /** What the channel last asked for (null: nothing yet). */
    private EpollIoOps asked;

    /** Netty added the fd to epoll for this registration (it does so at the first request). */
    private boolean added;

    /** Netty has taken the fd out of epoll again (a request for no event after it was added). */
    private boolean removed;

    Registration(IoHandle handle, IoRegistration current) {
      this.handle = handle;
      this.current = current;
    }

    void backpressuredAfterFin(boolean backpressured) {
      if (backpressured != backpressuredAfterFin) {
        backpressuredAfterFin = backpressured;
        if (asked != null && current.isValid()) {
          toKernel(asked); // the hang-up interest follows the mark at once
        }
      }
    }

    @Override
    public <T> T attachment() {
      return current.attachment();
    }

    @Override
    public long submit(IoOps ops) {
      asked = (EpollIoOps) ops;
      return toKernel(asked);
    }

    private long toKernel(EpollIoOps wanted) {
      EpollIoOps ops = wanted;
      if (backpressuredAfterFin && (wanted.value() & RDHUP) != 0) {
        int left = wanted.value() & ~RDHUP;
        // Nothing left: an edge-triggered nothing keeps the fd watched for a reset (reported
        // once) instead of asking Netty to delete it and add it again at the next read.
        ops = left == 0 ? EpollIoOps.EPOLLET : EpollIoOps.valueOf(left);
      }
      if (ops.value() == 0) {
        removed |= added;
        return current.submit(ops);
      }
      if (removed) {
        removed = false;
        if (current.isValid()) {
          // Netty's registration would MOD an fd it deleted: a fresh one adds it. Cancelled
          // first, on this thread, so the handler's table and count end as they were (its
          // delete of the already deleted fd fails quietly).
          current.cancel();
          try {
            current = netty.register(handle);
          } catch (Exception e) {
            throw new IllegalStateException("cannot register a socket with epoll again", e);
          }
          added = false;
        }
      }
      long result = current.submit(ops);
      added |= result >= 0;
      return result;
    }

    @Override
    public boolean isValid() {
      return current.isValid();
    }

    @Override
    public boolean cancel() {
      // A channel cancels its registration on its loop as it deregisters; the guard only keeps
      // the map loop-confined should anything else ever call this.
      if (Thread.currentThread() == loopThread) {
        byHandle.remove(handle, this);
      }
      return current.cancel();
    }
  }
}
