package io.tollgate.config;

import java.util.Objects;

/**
 * Event-loop settings ({@code tollgate.io}).
 *
 * @param transport which socket implementation to use
 * @param workerThreads event-loop threads for connections; 0 means one per available core
 * @param splice relay passthrough bytes with splice(2), socket to pipe to socket, once both sides
 *     are plain TCP on epoll (no effect on NIO or io_uring)
 * @param accept which thread accepts connections ({@code io.accept})
 * @param handshakeThreads threads of lowered CPU priority that run terminated connections'
 *     ClientHello steps ({@code io.handshake-threads}); 0: the loops run them; {@link
 *     #HANDSHAKE_THREADS_AUTO}: one per worker loop where the priority can be lowered (Linux)
 * @param handshakePriority how far those threads' CPU priority is lowered
 * @param handshakeThreadsWhen which ClientHello steps go to those threads
 */
public record IoConfig(
    Transport transport,
    int workerThreads,
    boolean splice,
    Accept accept,
    int handshakeThreads,
    HandshakePriority handshakePriority,
    HandshakeThreadsWhen handshakeThreadsWhen) {
  /** Most handshake threads {@code io.handshake-threads} accepts. */
  public static final int MAX_HANDSHAKE_THREADS = 64;

  /** {@code io.handshake-threads = auto}: one per worker loop, resolved at start. */
  public static final int HANDSHAKE_THREADS_AUTO = -1;

  public IoConfig {
    if (workerThreads < 0) {
      throw new IllegalArgumentException("workerThreads must be >= 0");
    }
    if (handshakeThreads != HANDSHAKE_THREADS_AUTO
        && (handshakeThreads < 0 || handshakeThreads > MAX_HANDSHAKE_THREADS)) {
      throw new IllegalArgumentException(
          "handshakeThreads must be auto or 0.." + MAX_HANDSHAKE_THREADS);
    }
    Objects.requireNonNull(accept, "accept");
    Objects.requireNonNull(handshakePriority, "handshakePriority");
    Objects.requireNonNull(handshakeThreadsWhen, "handshakeThreadsWhen");
  }

  /** Handshake threads taking steps in the paced queue's pauses ({@code gaps}, the default). */
  public IoConfig(
      Transport transport,
      int workerThreads,
      boolean splice,
      Accept accept,
      int handshakeThreads,
      HandshakePriority handshakePriority) {
    this(
        transport,
        workerThreads,
        splice,
        accept,
        handshakeThreads,
        handshakePriority,
        HandshakeThreadsWhen.GAPS);
  }

  /** Handshake threads as by default: {@code auto}, {@code idle}, {@code gaps}. */
  public IoConfig(Transport transport, int workerThreads, boolean splice, Accept accept) {
    this(transport, workerThreads, splice, accept, HANDSHAKE_THREADS_AUTO, HandshakePriority.IDLE);
  }

  /** Accepting on a worker loop, the default. */
  public IoConfig(Transport transport, int workerThreads, boolean splice) {
    this(transport, workerThreads, splice, Accept.WORKER);
  }

  /** How far {@code io.handshake-threads} lower their CPU priority. */
  public enum HandshakePriority {
    /** {@code nice 19}. */
    NICE,
    /** {@code SCHED_IDLE}. */
    IDLE
  }

  /**
   * Which ClientHello steps {@code io.handshake-threads} run ({@code io.handshake-threads-when}).
   */
  public enum HandshakeThreadsWhen {
    /**
     * Every step that arrives while the loop is contended: another route's connection was routed on
     * it lately and ClientHello steps are already waiting. Otherwise the loop runs the step itself,
     * which spares the two thread switches a hand-off costs.
     */
    CONTENDED,
    /** Every ClientHello step. */
    ALWAYS,
    /**
     * Only in the pauses of the loop's paced handshake queue ({@code
     * limits.handshake-share-percent}), the default: the queue still gives the loop's share to its
     * steps, and while it pauses for the other tenants' work, an idle thread takes the next waiting
     * step and runs it in whatever time the loops leave. Steps that do not wait never leave the
     * loop.
     */
    GAPS
  }

  /**
   * Where a listener's accept runs: on one of the worker loops, which keeps the connections it
   * hands itself with no thread switch (all of them with one worker), or on a thread of its own.
   */
  public enum Accept {
    WORKER,
    THREAD
  }

  /**
   * Socket implementation; {@code auto} picks epoll on Linux when it loads, NIO otherwise. {@code
   * io_uring} is asked for by name only.
   */
  public enum Transport implements NamedInConfig {
    AUTO("auto"),
    EPOLL("epoll"),
    IO_URING("io_uring"),
    NIO("nio");

    private final String configName;

    Transport(String configName) {
      this.configName = configName;
    }

    @Override
    public String configName() {
      return configName;
    }
  }
}
