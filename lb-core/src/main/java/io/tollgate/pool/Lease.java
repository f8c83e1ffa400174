package io.tollgate.pool;

import io.netty.channel.Channel;
import io.tollgate.health.PassiveSignals;

/**
 * One backend attempt's connection slot on a server, from {@link Pool#reserve}: everything the pool
 * learns about the attempt goes through it. The slot counts toward the server's {@code
 * max-connections} and least-conn / random-two from before the connect starts, and is given back
 * exactly once: when the attempt failed or was cancelled, or when the connected backend channel
 * closes. Connect failures, and resets before the server's first byte, are passive-ejection
 * failures; the first byte is its success.
 *
 * <p>Confined to the event loop of the attempt (the client's, which the backend channel shares);
 * not thread-safe.
 */
public final class Lease {
  private final Backend server;
  private final PassiveSignals signals;

  /** connected, failed or cancelled was reported: the attempt's outcome is decided. */
  private boolean decided;

  private boolean released;
  private boolean answered;

  Lease(Backend server, PassiveSignals signals) {
    this.server = server;
    this.signals = signals;
  }

  /** The server this slot is on. */
  public Backend server() {
    return server;
  }

  /**
   * The attempt connected (for reencrypt: its TLS handshake succeeded too); the slot is held until
   * {@code backend} closes. Success for passive ejection waits for {@link #answered}: a server that
   * accepts and then resets every connection must still add up to an ejection.
   */
  public void connected(Channel backend) {
    if (decide()) {
      backend.closeFuture().addListener(f -> release());
    }
  }

  /** The attempt failed: the slot is given back and the server is told off (passive ejection). */
  public void failed(Throwable cause) {
    if (decide()) {
      release();
      signals.connectFailed(server.state(), Pool.describe(cause));
    }
  }

  /**
   * The attempt was abandoned (the client went away, or our own socket failed): the slot is given
   * back and nothing counts against the server.
   */
  public void cancelled() {
    if (decide()) {
      release();
    }
  }

  /**
   * The server sent its first byte on the connection (for reencrypt: finished its handshake): a
   * success for passive ejection. Only the first call counts.
   */
  public void answered() {
    if (!answered) {
      answered = true;
      signals.connectSucceeded(server.state());
    }
  }

  /**
   * The server reset the connection: counts like a connect failure unless it had {@link #answered}
   * first, in which case it says nothing about the server's health.
   */
  public void resetBeforeFirstByte(String why) {
    if (!answered) {
      signals.connectFailed(server.state(), "reset before the first byte (" + why + ")");
    }
  }

  /** Gives the slot back; later calls do nothing. */
  public void release() {
    if (!released) {
      released = true;
      server.state().release();
    }
  }

  private boolean decide() {
    if (decided) {
      return false;
    }
    decided = true;
    return true;
  }

  @Override
  public String toString() {
    return "lease on " + server + (released ? " (released)" : "");
  }
}
