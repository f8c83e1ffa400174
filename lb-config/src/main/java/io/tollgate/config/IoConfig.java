package io.tollgate.config;

/**
 * Event-loop settings ({@code tollgate.io}).
 *
 * @param transport which socket implementation to use
 * @param workerThreads event-loop threads for connections; 0 means one per available core
 * @param splice relay passthrough bytes with splice(2), socket to pipe to socket, once both sides
 *     are plain TCP on epoll (no effect on NIO)
 */
public record IoConfig(Transport transport, int workerThreads, boolean splice) {
  public IoConfig {
    if (workerThreads < 0) {
      throw new IllegalArgumentException("workerThreads must be >= 0");
    }
  }

  /** Socket implementation; {@code auto} picks epoll on Linux when it loads, NIO otherwise. */
  public enum Transport {
    AUTO,
    EPOLL,
    NIO
  }
}
