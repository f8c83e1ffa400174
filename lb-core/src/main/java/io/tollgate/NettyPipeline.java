package io.tollgate;

/**
 * Names of every handler Tollgate puts in a pipeline, and the order they stand in. Code adds
 * handlers relative to these names, never by position.
 *
 * <h2>Client channel</h2>
 *
 * <pre>
 * accepted:     INSPECTOR
 * passthrough:  INSPECTOR -> PASSTHROUGH          while the backend connects; the inspector
 *                                                 leaves and hands its buffered hello on
 * relaying:     IDLE -> RELAY                     PASSTHROUGH replaced itself with RELAY
 * </pre>
 *
 * <h2>Backend channel</h2>
 *
 * <pre>
 * connecting:   (placeholder)                     autoRead off, no bytes are read yet
 * relaying:     IDLE -> RELAY                     RELAY replaced the placeholder
 * </pre>
 */
public final class NettyPipeline {
  /** {@code io.tollgate.inspect.ClientHelloInspector}: buffers until the hello is parsed. */
  public static final String INSPECTOR = "tollgate.inspector";
  /** {@code io.tollgate.relay.PassthroughRelay}: connects to a backend and replays the hello. */
  public static final String PASSTHROUGH = "tollgate.passthrough";
  /** Netty's IdleStateHandler bounding a relayed connection's idle time. */
  public static final String IDLE = "tollgate.idle";
  /** {@code io.tollgate.relay.RelayHandler}: copies bytes to the peer channel. */
  public static final String RELAY = "tollgate.relay";
  private NettyPipeline() {}
}
