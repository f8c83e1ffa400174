package io.tollgate.listener;

import io.netty.channel.IoEvent;
import io.netty.channel.IoHandle;
import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.IoOps;
import io.netty.channel.IoRegistration;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoEvent;
import io.netty.channel.uring.IoUringIoHandle;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringIoOps;
import io.tollgate.connection.InputAfterFin;
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
 * <p>How: the channel's POLLOUT poll is submitted with a user data of ours (never a 16-bit op id of
 * Netty's, which wrap, so none of the channel's other polls can be taken for it). A completion of
 * it that says neither POLLOUT nor an error or hang-up is kept from the channel, and the wait goes
 * on as a multishot poll for POLLOUT: such a poll reports POLLRDHUP once on arming, stays armed,
 * and reports again when the socket's send buffer has room. That report goes to the channel, with
 * the channel's own user data, as the end of its poll; the multishot poll is then cancelled and
 * what else it and the cancel complete is dropped. The channel's cancel of its poll (as it closes)
 * is sent to the multishot poll when that is what waits, and nothing is continued after it, after
 * the channel's close or after its registration is cancelled (a pending poll holds the socket
 * open). Nothing changes for a socket whose peer has not closed, bar the user data.
 *
 * <p>And, as {@link RearmingEpollIoHandler} does for epoll, a socket whose peer sent its FIN is
 * read under backpressure ({@link InputAfterFin}). Why: when the channel's POLLRDHUP poll
 * completes, Netty starts a read at once and keeps reading to the end of the stream, whether
 * reading is on or not. How: for a marked socket, that completion (the FIN alone; an error or a
 * reset goes through) is kept from the channel, which then reads only while reading is on and finds
 * the end as a read of 0. The kept completion is handed over at the loop's next turn when the mark
 * is lifted (Netty's way from there on), or, when the channel closes and cancels that poll, as the
 * cancelled poll's end it waits for.
 */
final class PollOutAfterFinIoUringHandler
    extends MarkingIoHandler<PollOutAfterFinIoUringHandler.Registration> {
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
  private static final int POLLRDHUP = 0x2000;

  /** -ECANCELED: what the kernel answers a cancelled poll with (Linux x86, ARM, RISC-V). */
  private static final int CANCELLED = -125;

  /** Multishot polls: Linux 5.13 and later; without them the channel's completion goes as is. */
  private static final boolean MULTISHOT = IoUring.isPollAddMultishotEnabled();

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
    track(handle, registration);
    return registration;
  }

  /**
   * One channel's registration: the channel submits through it, and the ring's completions reach
   * the channel through it. Used on the loop's thread only, as Netty's own.
   */
  final class Registration extends MarkingIoHandler.Marked
      implements IoRegistration, IoUringIoHandle {
    /**
     * Where our user data starts: Netty's are short op ids (and, for zero-copy writes with every
     * short id taken, a count from 32768), so never this high; the ring tracks such data by token.
     */
    private static final long FIRST_TAG = 1L << 62;

    private final IoUringIoHandle channel;
    private IoRegistration ring;
    private long nextTag = FIRST_TAG;

    /** The channel waits for its POLLOUT poll: submitted with the channel's data, on this fd. */
    private boolean pollOutPending;

    private long channelData;
    private int pollOutFd;

    /** The user data we gave that wait's polls (the channel's own, then ours that continue it). */
    private long pollOutTag;

    /** The id the channel got for its poll, which its cancel names. */
    private long pollOutId;

    /** Our multishot poll that continues the wait, or 0. */
    private long multishotId;

    /** The channel cancelled its wait or is closing: the wait is not continued any more. */
    private boolean stopped;

    /** See {@link InputAfterFin}: the peer's FIN is kept from the channel. */
    private boolean backpressuredAfterFin;

    /** The ring's id for the channel's POLLRDHUP poll (what its cancel names), or 0. */
    private long hangUpId;

    /** The channel's user data for that poll (its completion carries it). */
    private long hangUpData = Long.MIN_VALUE;

    /** That poll's completion, kept from the channel while the socket is marked. */
    private IoUringIoEvent heldHangUp;

    /** {@link #heldHangUp} goes over at the next turn as a cancelled poll's end. */
    private boolean handOverCancelled;

    Registration(IoUringIoHandle channel) {
      this.channel = channel;
    }

    @Override
    void backpressuredAfterFin(boolean backpressured) {
      backpressuredAfterFin = backpressured;
      if (!backpressured && heldHangUp != null) {
        queueHandOver(false); // Netty's way from here: it hears of the FIN and reads to the end
      }
    }

    /**
     * Hands the kept hang-up over at the loop's next turn: outside of any channel's own call (a
     * close cancels its polls one after the other, and a hang-up handed over in between would be
     * taken for the end of the others).
     */
    private void queueHandOver(boolean cancelled) {
      handOverCancelled = cancelled;
      atNextTurn(this);
    }

    /** Gives the channel the hang-up completion kept from it. */
    @Override
    void onNextTurn() {
      IoUringIoEvent held = heldHangUp;
      heldHangUp = null;
      if (held == null || !ring.isValid()) {
        return;
      }
      channel.handle(
          this,
          handOverCancelled
              ? new IoUringIoEvent(CANCELLED, 0, OP_POLL_ADD, held.userData())
              : held);
    }

    @Override
    public long submit(IoOps ops) {
      IoUringIoOps op = (IoUringIoOps) ops;
      byte opcode = Ops.opcode(op);
      if (opcode == OP_POLL_ADD && Ops.events(op) == POLLRDHUP) {
        hangUpData = Ops.userData(op);
        hangUpId = ring.submit(ops);
        return hangUpId;
      }
      if (opcode == OP_ASYNC_CANCEL && heldHangUp != null && Ops.cancelTarget(op) == hangUpId) {
        // The channel closes and cancels its hang-up poll, which has ended already (we hold its
        // completion): the kernel would find nothing to cancel, and the channel waits for the
        // poll's end. It gets it as a cancelled poll's, at the loop's next turn.
        queueHandOver(true);
        return nextTag++; // never seen by the ring; the channel only checks it is not 0
      }
      if (opcode == OP_POLL_ADD && isOneShotPollOut(op)) {
        // Resubmitted with a user data of our own, so that its completions cannot be taken for
        // those of the channel's other polls (Netty's 16-bit op ids wrap).
        cancelMultishot(); // left armed only if Netty ended the last wait on its own
        pollOutPending = true;
        stopped = false;
        channelData = Ops.userData(op);
        pollOutFd = Ops.fd(op);
        pollOutTag = nextTag++;
        pollOutId = ring.submit(pollAdd(pollOutFd, 0, POLLOUT, pollOutTag));
        return pollOutId;
      }
      if (opcode == OP_ASYNC_CANCEL && pollOutPending && Ops.cancelTarget(op) == pollOutId) {
        // The channel ends its wait (it closes): ours is what is armed, if anything.
        stopped = true;
        if (multishotId != 0) {
          long id = ring.submit(cancel(multishotId, Ops.userData(op)));
          multishotId = 0; // its last completion, -ECANCELED, ends the channel's wait
          return id;
        }
      } else if (opcode == OP_CLOSE) {
        stopped = true;
        cancelMultishot();
      }
      return ring.submit(ops);
    }

    /** Netty's wait for room to write: a one-shot POLL_ADD for POLLOUT alone. */
    private static boolean isOneShotPollOut(IoUringIoOps op) {
      return Ops.events(op) == POLLOUT && (Ops.len(op) & POLL_ADD_MULTI) == 0;
    }

    @Override
    public void handle(IoRegistration registration, IoEvent event) {
      IoUringIoEvent completion = (IoUringIoEvent) event;
      long data = completion.userData();
      if (data >= FIRST_TAG) { // ours: Netty submits short data only
        if (data == pollOutTag && pollOutPending && completion.opcode() == OP_POLL_ADD) {
          pollOutCompleted(completion);
        }
        return; // anything else of ours (a cancelled poll, our cancel) the channel did not ask for
      }
      int res = completion.res();
      if (backpressuredAfterFin
          && completion.opcode() == OP_POLL_ADD
          && res > 0
          && (res & POLLRDHUP) != 0
          && (res & (POLLERR | POLLHUP)) == 0) {
        // The peer's FIN (an error or a reset goes through as made), which Netty answers by
        // reading the socket to its end: kept from the channel, which finds the end as a read of
        // 0 when it reads again. The hang-up poll's own completion (POLLRDHUP alone: it polls for
        // nothing else) is held for its close; the kernel adds the bit to the read side's polls
        // too (with POLLIN: the end is readable), and there it is only taken out.
        if (res == POLLRDHUP && data == hangUpData && heldHangUp == null) {
          heldHangUp = new IoUringIoEvent(res, completion.flags(), OP_POLL_ADD, data);
          return;
        }
        if (res != POLLRDHUP) {
          channel.handle(
              this, new IoUringIoEvent(res & ~POLLRDHUP, completion.flags(), OP_POLL_ADD, data));
          return;
        }
      }
      channel.handle(this, event);
    }

    /** A completion of the channel's wait for POLLOUT, or of our poll that continues it. */
    private void pollOutCompleted(IoUringIoEvent completion) {
      int res = completion.res();
      boolean more = (completion.flags() & CQE_F_MORE) != 0;
      if (res >= 0 && (res & WRITABLE_OR_FAILED) == 0) {
        // POLLRDHUP alone: the peer's FIN, not room to write.
        if (more) {
          return; // our multishot poll waits on
        }
        if (!stopped && MULTISHOT && ring.isValid()) {
          multishotId = ring.submit(pollAdd(pollOutFd, POLL_ADD_MULTI, POLLOUT, pollOutTag));
          if (multishotId != 0) {
            return;
          }
        }
        // Not continued (the channel is closing, or it could not be): its completion as made.
      }
      pollOutPending = false;
      if (more) {
        cancelMultishot(); // it saw room (or a failure): it ends here
      }
      multishotId = 0;
      channel.handle(
          this,
          new IoUringIoEvent(res, completion.flags() & ~CQE_F_MORE, OP_POLL_ADD, channelData));
    }

    private static IoUringIoOps pollAdd(int fd, int len, int events, long data) {
      // As Netty's IoUringIoOps.newPollAdd, with a long user data.
      return new IoUringIoOps(
          OP_POLL_ADD,
          (byte) 0,
          (short) 0,
          fd,
          0L,
          0L,
          len,
          events,
          data,
          (short) 0,
          (short) 0,
          0,
          0L);
    }

    private static IoUringIoOps cancel(long target, long data) {
      // As Netty's IoUringIoOps.newAsyncCancel: the target's user data in addr (union2).
      return new IoUringIoOps(
          OP_ASYNC_CANCEL,
          (byte) 0,
          (short) 0,
          -1,
          0L,
          target,
          0,
          0,
          data,
          (short) 0,
          (short) 0,
          0,
          0L);
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
      stopped = true;
      cancelMultishot();
      forget(channel, this);
      return ring.cancel();
    }

    /** Cancels our multishot poll, if one is armed; what it and the cancel complete is dropped. */
    private void cancelMultishot() {
      if (multishotId != 0 && ring.isValid()) {
        ring.submit(cancel(multishotId, nextTag++));
      }
      multishotId = 0;
    }
  }

  /** Netty keeps {@link IoUringIoOps}' fields package-private: read through method handles. */
  private static final class Ops {
    private static final MethodHandle OPCODE;
    private static final MethodHandle FD;
    private static final MethodHandle ADDR;
    private static final MethodHandle LEN;
    private static final MethodHandle EVENTS;
    private static final MethodHandle USER_DATA;
    static final Throwable failure;

    static {
      MethodHandle[] found = new MethodHandle[6];
      Throwable failed = null;
      try {
        MethodHandles.Lookup in =
            MethodHandles.privateLookupIn(IoUringIoOps.class, MethodHandles.lookup());
        found[0] = in.findVirtual(IoUringIoOps.class, "opcode", MethodType.methodType(byte.class));
        found[1] = in.findVirtual(IoUringIoOps.class, "fd", MethodType.methodType(int.class));
        // addr: for ASYNC_CANCEL the user data of the operation to cancel.
        found[2] = in.findVirtual(IoUringIoOps.class, "union2", MethodType.methodType(long.class));
        found[3] = in.findVirtual(IoUringIoOps.class, "len", MethodType.methodType(int.class));
        // poll32_events: for POLL_ADD the events polled for.
        found[4] = in.findVirtual(IoUringIoOps.class, "union3", MethodType.methodType(int.class));
        found[5] =
            in.findVirtual(IoUringIoOps.class, "userData", MethodType.methodType(long.class));
      } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
        failed = e;
      }
      OPCODE = found[0];
      FD = found[1];
      ADDR = found[2];
      LEN = found[3];
      EVENTS = found[4];
      USER_DATA = found[5];
      failure = failed;
    }

    static byte opcode(IoUringIoOps op) {
      try {
        return (byte) OPCODE.invokeExact(op);
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

    static long cancelTarget(IoUringIoOps op) {
      try {
        return (long) ADDR.invokeExact(op);
      } catch (Throwable e) {
        throw new IllegalStateException(e);
      }
    }

    static int len(IoUringIoOps op) {
      try {
        return (int) LEN.invokeExact(op);
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
  }
}
