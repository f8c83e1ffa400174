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
 *     ClientHello steps ({@code io.handshake-threads}); 0: the loops run them
 * @param handshakePriority how far those threads' CPU priority is lowered
 */
public record IoConfig(
    Transport transport,
    int workerThreads,
    boolean splice,
    Accept accept,
    int handshakeThreads,
    HandshakePriority handshakePriority) {
  /** Most handshake threads {@code io.handshake-threads} accepts. */
  public static final int MAX_HANDSHAKE_THREADS = 64;

  public IoConfig {
    if (workerThreads < 0) {
      throw new IllegalArgumentException("workerThreads must be >= 0");
    }
    if (handshakeThreads < 0 || handshakeThreads > MAX_HANDSHAKE_THREADS) {
      throw new IllegalArgumentException("handshakeThreads must be 0.." + MAX_HANDSHAKE_THREADS);
    }
    Objects.requireNonNull(accept, "accept");
    Objects.requireNonNull(handshakePriority, "handshakePriority");
  }

  /** No handshake threads (the default). */
  public IoConfig(Transport transport, int workerThreads, boolean splice, Accept accept) {
    this(transport, workerThreads, splice, accept, 0, HandshakePriority.NICE);
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
