package io.tollgate.ops;

import io.tollgate.Tollgate;
import io.tollgate.config.AdminConfig;
import io.tollgate.upgrade.Upgrader;
import java.net.InetSocketAddress;

/**
 * The admin endpoint as {@link Operations} sees it: something started with the {@code admin} block
 * that reloads through the {@link Reloader} and is closed with the rest. Implemented in {@code
 * io.tollgate.admin}; the caller of {@link Operations#start} names the implementation, so this
 * package does not depend on it.
 */
public interface AdminEndpoint extends AutoCloseable {
  /** Where it listens (with port 0 in config, the port the OS chose). */
  InetSocketAddress address();

  @Override
  void close();

  /**
   * Stops accepting admin connections, so a successor can bind the address; requests being served
   * are answered. For an upgrade.
   */
  default void stopAccepting() {}

  /** Starts an endpoint, e.g. {@code AdminServer::start}. */
  @FunctionalInterface
  interface Starter {
    /**
     * @param reloader what {@code POST /reload} runs
     * @param upgrader what {@code POST /upgrade} runs, or null (answered with 501)
     * @throws IllegalStateException when the endpoint cannot be started
     */
    AdminEndpoint start(
        AdminConfig config, Tollgate tollgate, Reloader reloader, Upgrader upgrader);
  }
}
