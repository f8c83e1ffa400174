package io.tollgate.pool;

import io.netty.channel.Channel;

/**
 * What the backend connector reports about each attempt, on the client's event loop: a slot is
 * taken before connecting (so {@code max-connections} holds and least-conn sees the attempt),
 * and given back when the attempt fails or the backend connection closes. Failures and
 * successes also feed passive ejection.
 */
public interface ConnectListener {
  /** Counts nothing, refuses nothing. */
  ConnectListener NONE = new ConnectListener() {
    @Override
    public boolean reserve(Backend server) {
      return true;
    }

    @Override
    public void connected(Backend server, Channel backend) {}

    @Override
    public void failed(Backend server, Throwable cause) {}

    @Override
    public void cancelled(Backend server) {}
  };

  /** Takes a connection slot on {@code server}; false when it is full (skip it). */
  boolean reserve(Backend server);

  /** The attempt connected; the slot is released when {@code backend} closes. */
  void connected(Backend server, Channel backend);

  /** The attempt failed; its slot is released. */
  void failed(Backend server, Throwable cause);

  /** The attempt was abandoned (the client went away); its slot is released. */
  void cancelled(Backend server);
}
