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
 */
public record IoConfig(Transport transport, int workerThreads, boolean splice, Accept accept) {
  public IoConfig {
    if (workerThreads < 0) {
      throw new IllegalArgumentException("workerThreads must be >= 0");
    }
    Objects.requireNonNull(accept, "accept");
  }

  /** Accepting on a worker loop, the default. */
  public IoConfig(Transport transport, int workerThreads, boolean splice) {
    this(transport, workerThreads, splice, Accept.WORKER);
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
