package io.tollgate.listener;

import io.netty.channel.IoHandle;
import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.IoOps;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollIoOps;

/**
 * Netty's epoll {@link IoHandler}, mended so that a socket it took out of epoll can be watched
 * again.
 *
 * <p>Why: Netty 4.2 (4.2.18 and 4.2.21 alike) deletes a channel's fd from epoll when the channel
 * stops waiting for any event (a mask of 0), but keeps its registration marked as added, so the
 * next request for an event is an {@code EPOLL_CTL_MOD} that fails with ENOENT, and Netty closes
 * the channel. A socket gets there after its peer's FIN (Netty drops the read and hang-up interest
 * once the input ended) whenever it also has nothing to write: a client that half-closed right
 * behind its request and then reads a large answer slowly lost the rest of it as soon as Tollgate
 * had to wait for its socket to drain (reproduced: 4 of 32 MiB arrived), and any resume of reading
 * after an event for an old socket with the same number had cleared the new one's interest failed
 * the same way.
 *
 * <p>How: each registration remembers that Netty added its fd and then, at a request for no event,
 * took it out; the next request for an event cancels that registration and registers the channel's
 * handle again, which adds the fd anew. Nothing else changes: the channel keeps its registration
 * object (this one), and events reach it as before.
 */
final class RearmingEpollIoHandler extends DelegatingIoHandler {
  private RearmingEpollIoHandler(IoHandler epoll) {
    super(epoll);
  }

  /** Epoll's own factory, each handler it makes wrapped. */
  static IoHandlerFactory newFactory() {
    return wrapping(EpollIoHandler.newFactory(), RearmingEpollIoHandler::new);
  }

  @Override
  public IoRegistration register(IoHandle handle) throws Exception {
    return new Registration(handle, netty.register(handle));
  }

  /** Used on the loop's thread only, as Netty's own (submit is called from the channel's loop). */
  private final class Registration implements IoRegistration {
    private final IoHandle handle;
    private IoRegistration current;

    /** Netty added the fd to epoll for this registration (it does so at the first request). */
    private boolean added;

    /** Netty has taken the fd out of epoll again (a request for no event after it was added). */
    private boolean removed;

    Registration(IoHandle handle, IoRegistration current) {
      this.handle = handle;
      this.current = current;
    }

    @Override
    public <T> T attachment() {
      return current.attachment();
    }

    @Override
    public long submit(IoOps ops) {
      if (((EpollIoOps) ops).value() == 0) {
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
      return current.cancel();
    }
  }
}
