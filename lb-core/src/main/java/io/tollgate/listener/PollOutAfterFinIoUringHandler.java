package io.tollgate.listener;

import io.netty.channel.IoEvent;
import io.netty.channel.IoHandle;
import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.IoOps;
import io.netty.channel.IoRegistration;
import io.netty.channel.uring.IoUringIoEvent;
import io.netty.channel.uring.IoUringIoHandle;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringIoOps;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Netty's io_uring {@link IoHandler}, mended so that a socket whose peer has sent FIN can still
 * wait until it can be written again.
 *
 * <p>Why: the kernel adds POLLRDHUP to the events of every io_uring poll ({@code IO_POLL_UNMASK} in
 * io_uring/poll.c), so once the peer's FIN has arrived, the poll for POLLOUT that Netty 4.2
 * (4.2.18) arms when a write would block completes at once with POLLRDHUP alone. Netty reads that
 * completion by its bits, not by which poll it ends: it takes it for the read side's, and still
 * believes its POLLOUT poll to be pending, so it never writes that socket again. A backend that
 * half-closed and then read a large upload slowly stopped receiving it for good, with the rest held
 * in Tollgate until the idle timeout (reproduced in 7 runs of 8 on one machine).
 *
 * <p>How: a completion of the channel's POLLOUT poll that says neither POLLOUT nor an error or
 * hang-up is kept from the channel, and the wait goes on as a multishot poll for POLLOUT with the
 * same user data (so that Netty's own cancel of its poll still reaches it): such a poll reports
 * POLLRDHUP once on arming, stays armed, and reports again when the socket's send buffer has room.
 * That report goes to the channel as the end of its poll; the multishot poll is then cancelled, and
 * its remaining completions are kept from the channel. Nothing changes for a socket whose peer has
 * not closed.
 */
final class PollOutAfterFinIoUringHandler extends DelegatingIoHandler {
  private static final Logger log = LoggerFactory.getLogger(PollOutAfterFinIoUringHandler.class);

  // io_uring.h and poll.h: stable kernel ABI.
  private static final byte OP_POLL_ADD = 6;
  private static final byte OP_ASYNC_CANCEL = 14;
  private static final byte OP_CLOSE = 19;
  private static final int POLL_ADD_MULTI = 1;
  private static final int CQE_F_MORE = 1 << 1;
  private static final int POLLOUT = 0x4;
  private static final int POLLERR = 0x8;
  private static final int POLLHUP = 0x10;
  private static final int POLLNVAL = 0x20;

  /** What ends a wait for POLLOUT: the socket can be written, or it failed. */
  private static final int WRITABLE_OR_FAILED = POLLOUT | POLLERR | POLLHUP | POLLNVAL;

  private PollOutAfterFinIoUringHandler(IoHandler uring) {
    super(uring);
  }

  /**
   * io_uring's own factory, each handler it makes wrapped; unwrapped when this Netty's operations
   * cannot be read (a Netty that changed them), with a warning.
   */
  static IoHandlerFactory newFactory() {
    IoHandlerFactory netty = IoUringIoHandler.newFactory();
    if (Ops.failure != null) {
      log.warn(
          "io_uring: cannot mend Netty's wait for a writable socket after the peer's FIN ({});"
              + " a half-closed peer that reads slowly may stall",
          Ops.failure.toString());
      return netty;
    }
    return wrapping(netty, PollOutAfterFinIoUringHandler::new);
  }

  @Override
  public IoRegistration register(IoHandle handle) throws Exception {
    if (!(handle instanceof IoUringIoHandle channel)) {
      return netty.register(handle); // refused there, with Netty's own message
    }
    Registration registration = new Registration(channel);
    registration.ring = netty.register(registration);
    return registration;
  }

  /**
   * One channel's registration: the channel submits through it, and the ring's completions reach
   * the channel through it. Used on the loop's thread only, as Netty's own.
   */
  private static final class Registration implements IoRegistration, IoUringIoHandle {
    private final IoUringIoHandle channel;
    private IoRegistration ring;

    /** The channel waits for its POLLOUT poll, submitted with this user data, on this fd. */
    private boolean pollOutPending;

    private long pollOutData;
    private int pollOutFd;

    /** The wait goes on as a multishot poll, of this id (the channel's poll's id as well). */
    private long multishotId;

    /**
     * A multishot poll of ours, with this user data, was cancelled: its last completion is ours.
     */
    private boolean cancelled;

    private long cancelledData;

    /** Our cancel's own completion is still to come (dropped: the channel did not ask for it). */
    private boolean cancelCompletionPending;

    /** The channel is closing: no new poll of ours may hold its socket open. */
    private boolean closing;

    Registration(IoUringIoHandle channel) {
      this.channel = channel;
    }

    @Override
    public long submit(IoOps ops) {
      IoUringIoOps op = (IoUringIoOps) ops;
      byte opcode = Ops.opcode(op);
      if (opcode == OP_POLL_ADD && (Ops.events(op) & POLLOUT) != 0) {
        pollOutPending = true;
        pollOutData = Ops.userData(op);
        pollOutFd = Ops.fd(op);
        multishotId = 0;
      } else if (opcode == OP_CLOSE) {
        closing = true;
      }
      return ring.submit(ops);
    }

    @Override
    public void handle(IoRegistration registration, IoEvent event) {
      IoUringIoEvent completion = (IoUringIoEvent) event;
      byte opcode = completion.opcode();
      long data = completion.userData();
      if (opcode == OP_POLL_ADD) {
        boolean more = (completion.flags() & CQE_F_MORE) != 0;
        if (cancelled && data == cancelledData) {
          cancelled = more;
          return;
        }
        if (pollOutPending && data == pollOutData) {
          pollOutEnded(completion, data, more);
          return;
        }
      } else if (opcode == OP_ASYNC_CANCEL && cancelCompletionPending && data == cancelledData) {
        cancelCompletionPending = false;
        return;
      }
      channel.handle(this, event);
    }

    /** A completion of the channel's wait for POLLOUT, or of ours that continues it. */
    private void pollOutEnded(IoUringIoEvent completion, long data, boolean more) {
      int res = completion.res();
      if (res >= 0 && (res & WRITABLE_OR_FAILED) == 0) {
        // POLLRDHUP alone: the peer's FIN, not room to write. Wait on, unless the channel is
        // closing (a poll keeps its socket open) or a multishot poll of ours still waits.
        if (!more && !closing && ring.isValid()) {
          multishotId =
              ring.submit(
                  new IoUringIoOps(
                      OP_POLL_ADD,
                      (byte) 0,
                      (short) 0,
                      pollOutFd,
                      0L,
                      0L,
                      POLL_ADD_MULTI,
                      POLLOUT,
                      data,
                      (short) 0,
                      (short) 0,
                      0,
                      0L));
          if (multishotId != 0) {
            return;
          }
        } else if (more) {
          return;
        }
        // Could not wait on: the channel gets its completion as Netty made it.
        pollOutPending = false;
        channel.handle(this, completion);
        return;
      }
      pollOutPending = false;
      if (!more) {
        channel.handle(this, completion);
        return;
      }
      // Our multishot poll saw the socket writable (or failed): the channel's poll ends here,
      // and ours is cancelled, its later completions dropped.
      cancelled = true;
      cancelledData = data;
      if (ring.isValid()) {
        cancelCompletionPending =
            ring.submit(
                    new IoUringIoOps(
                        OP_ASYNC_CANCEL,
                        (byte) 0,
                        (short) 0,
                        -1,
                        0L,
                        multishotId,
                        0,
                        0,
                        data,
                        (short) 0,
                        (short) 0,
                        0,
                        0L))
                != 0;
      }
      channel.handle(
          this,
          new IoUringIoEvent(res, completion.flags() & ~CQE_F_MORE, completion.opcode(), data));
    }

    @Override
    public void registered() {
      channel.registered();
    }

    @Override
    public void unregistered() {
      channel.unregistered();
    }

    @Override
    public void close() throws Exception {
      channel.close();
    }

    @Override
    public <T> T attachment() {
      return ring.attachment();
    }

    @Override
    public boolean isValid() {
      return ring.isValid();
    }

    @Override
    public boolean cancel() {
      closing = true;
      return ring.cancel();
    }
  }

  /** Netty keeps {@link IoUringIoOps}' fields package-private: read through method handles. */
  private static final class Ops {
    private static final MethodHandle OPCODE;
    private static final MethodHandle EVENTS;
    private static final MethodHandle USER_DATA;
    private static final MethodHandle FD;
    static final Throwable failure;

    static {
      MethodHandle opcode = null;
      MethodHandle events = null;
      MethodHandle userData = null;
      MethodHandle fd = null;
      Throwable failed = null;
      try {
        MethodHandles.Lookup in =
            MethodHandles.privateLookupIn(IoUringIoOps.class, MethodHandles.lookup());
        opcode = in.findVirtual(IoUringIoOps.class, "opcode", MethodType.methodType(byte.class));
        // The poll events of a POLL_ADD (poll32_events, in the sqe's union at offset 28).
        events = in.findVirtual(IoUringIoOps.class, "union3", MethodType.methodType(int.class));
        userData =
            in.findVirtual(IoUringIoOps.class, "userData", MethodType.methodType(long.class));
        fd = in.findVirtual(IoUringIoOps.class, "fd", MethodType.methodType(int.class));
      } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
        failed = e;
      }
      OPCODE = opcode;
      EVENTS = events;
      USER_DATA = userData;
      FD = fd;
      failure = failed;
    }

    static byte opcode(IoUringIoOps op) {
      try {
        return (byte) OPCODE.invokeExact(op);
      } catch (Throwable e) {
        throw new IllegalStateException(e);
      }
    }

    static int events(IoUringIoOps op) {
      try {
        return (int) EVENTS.invokeExact(op);
      } catch (Throwable e) {
        throw new IllegalStateException(e);
      }
    }

    static long userData(IoUringIoOps op) {
      try {
        return (long) USER_DATA.invokeExact(op);
      } catch (Throwable e) {
        throw new IllegalStateException(e);
      }
    }

    static int fd(IoUringIoOps op) {
      try {
        return (int) FD.invokeExact(op);
      } catch (Throwable e) {
        throw new IllegalStateException(e);
      }
    }
  }
}
