package io.tollgate.listener;

import io.netty.channel.IoHandle;
import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.IoOps;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollIoOps;
import io.tollgate.connection.InputAfterFin;

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
 *
 * <p>And a third job, for cost: changes of interest wait for the loop's next turn and only the last
 * one per socket reaches the kernel. Why: a connection changes its interest several times between
 * two waits (Netty adds a socket with its hang-up interest, the mark takes it out, the first read
 * puts reading in; a relay stops and resumes reading within one pass), and each change was an
 * {@code epoll_ctl}; the kernel only needs the last one before the wait: 11.7 calls per passthrough
 * connection became 7. Level-triggered epoll loses nothing by it: the change reaches the kernel
 * before the wait that could report the socket, and events the current pass already took are
 * handled as Netty always did, whatever the interest.
 */
final class RearmingEpollIoHandler extends MarkingIoHandler<RearmingEpollIoHandler.Registration> {
  private static final int RDHUP = EpollIoOps.EPOLLRDHUP.value();

  /** Sentinel of {@link Registration#inKernel}: nothing given to the kernel yet. */
  private static final int NOTHING_YET = -1;

  private long kernelUpdates;

  private RearmingEpollIoHandler(IoHandler epoll) {
    super(epoll);
  }

  /** Epoll's own factory, each handler it makes wrapped. */
  static IoHandlerFactory newFactory() {
    return wrapping(EpollIoHandler.newFactory(), RearmingEpollIoHandler::new);
  }

  @Override
  public IoRegistration register(IoHandle handle) throws Exception {
    Registration r = new Registration(handle, netty.register(handle));
    track(handle, r);
    return r;
  }

  /** Changes of interest given to the kernel (through Netty's registrations) so far (tests). */
  long kernelUpdates() {
    return kernelUpdates;
  }

  /** Used on the loop's thread only, as Netty's own (submit is called from the channel's loop). */
  final class Registration extends MarkingIoHandler.Marked implements IoRegistration {
    private final IoHandle handle;
    private IoRegistration current;

    /** See {@link InputAfterFin}: {@code EPOLLRDHUP} is left out of the kernel's interest. */
    private boolean backpressuredAfterFin;

    /** What the channel last asked for (null: nothing yet). */
    private EpollIoOps asked;

    /** What the kernel was last given for this registration ({@link #NOTHING_YET}: nothing). */
    private int inKernel = NOTHING_YET;

    /** Netty added the fd to epoll for this registration (it does so at the first request). */
    private boolean added;

    Registration(IoHandle handle, IoRegistration current) {
      this.handle = handle;
      this.current = current;
    }

    @Override
    void backpressuredAfterFin(boolean backpressured) {
      if (backpressured != backpressuredAfterFin) {
        backpressuredAfterFin = backpressured;
        if (asked != null) {
          atNextTurn(this); // the hang-up interest follows the mark before the next wait
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
      atNextTurn(this);
      return asked.value(); // Netty's channels ignore the result; Netty's own returns the ops
    }

    /** Gives the kernel what was asked last, if it differs from what it has. */
    @Override
    void onNextTurn() {
      // A channel closed since it asked: its fd may already carry another socket.
      if (!current.isValid() || !((EpollIoHandle) handle).fd().isOpen()) {
        return;
      }
      EpollIoOps ops = kernelOps(asked);
      if (ops.value() == inKernel) {
        return;
      }
      try {
        toKernel(ops);
      } catch (RuntimeException e) {
        // Netty fails the channel's own call when epoll refuses a change; here that call has
        // returned, so the channel is closed instead, as it would have been.
        inKernel = NOTHING_YET;
        try {
          handle.close();
        } catch (Exception closing) {
          e.addSuppressed(closing); // the channel is gone either way
        }
      }
    }

    private EpollIoOps kernelOps(EpollIoOps wanted) {
      if (backpressuredAfterFin && (wanted.value() & RDHUP) != 0) {
        int left = wanted.value() & ~RDHUP;
        // Nothing left: an edge-triggered nothing keeps the fd watched for a reset (reported
        // once) instead of asking Netty to delete it and add it again at the next read.
        return left == 0 ? EpollIoOps.EPOLLET : EpollIoOps.valueOf(left);
      }
      return wanted;
    }

    private void toKernel(EpollIoOps ops) {
      kernelUpdates++;
      if (ops.value() == 0) {
        current.submit(ops);
        inKernel = 0;
        return;
      }
      if (added && inKernel == 0) {
        // Netty has taken the fd out of epoll (a request for no event after it was added), and
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
      long result = current.submit(ops);
      added |= result >= 0;
      inKernel = ops.value();
    }

    @Override
    public boolean isValid() {
      return current.isValid();
    }

    @Override
    public boolean cancel() {
      // A change still queued is dropped when its turn comes (the registration is no longer
      // valid).
      forget(handle, this);
      return current.cancel();
    }
  }
}
