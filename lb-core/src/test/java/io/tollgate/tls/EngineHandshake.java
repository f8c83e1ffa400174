package io.tollgate.tls;

import java.nio.ByteBuffer;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;

/** Drives a client and a server {@link SSLEngine} against each other in memory. */
final class EngineHandshake {
  private EngineHandshake() {}

  /**
   * Runs the handshake to completion, or throws the {@link SSLException} the client raised (or,
   * when the client saw nothing wrong, the server's).
   */
  static void run(SSLEngine client, SSLEngine server) throws SSLException {
    SSLException[] failures = new SSLException[2];
    try {
      run(client, server, failures);
    } catch (SSLException e) {
      // fall through: report the client's view first
    }
    if (failures[0] != null) {
      throw failures[0];
    }
    if (failures[1] != null) {
      throw failures[1];
    }
  }

  private static void run(SSLEngine client, SSLEngine server, SSLException[] failures)
      throws SSLException {
    ByteBuffer toServer = ByteBuffer.allocate(1 << 17);
    ByteBuffer toClient = ByteBuffer.allocate(1 << 17);
    ByteBuffer clientApp = ByteBuffer.allocate(1 << 17);
    ByteBuffer serverApp = ByteBuffer.allocate(1 << 17);
    client.beginHandshake();
    server.beginHandshake();
    for (int round = 0; round < 100; round++) {
      boolean progress = false;
      if (failures[0] == null) {
        try {
          progress = step(client, toServer, toClient, clientApp);
        } catch (SSLException e) {
          failures[0] = e;
          client.closeOutbound();
          drainAlert(client, toServer);
        }
      }
      if (failures[1] == null) {
        try {
          progress |= step(server, toClient, toServer, serverApp);
        } catch (SSLException e) {
          failures[1] = e;
          server.closeOutbound();
          drainAlert(server, toClient);
        }
      }
      if (failures[0] != null && failures[1] != null) {
        return;
      }
      if (failures[0] != null || failures[1] != null) {
        if (round > 20) {
          return;
        }
        continue;
      }
      if (done(client) && done(server) && toServer.position() == 0 && toClient.position() == 0) {
        return;
      }
      if (!progress && round > 10) {
        break;
      }
    }
    throw new SSLException(
        "handshake did not finish: client "
            + client.getHandshakeStatus()
            + ", server "
            + server.getHandshakeStatus());
  }

  private static void drainAlert(SSLEngine engine, ByteBuffer out) {
    try {
      engine.wrap(ByteBuffer.allocate(0), out);
    } catch (SSLException e) {
      // nothing more to send
    }
  }

  private static boolean done(SSLEngine engine) {
    HandshakeStatus status = engine.getHandshakeStatus();
    return status == HandshakeStatus.NOT_HANDSHAKING || status == HandshakeStatus.FINISHED;
  }

  /** One wrap into {@code out} and one unwrap from {@code in}; buffers stay in write mode. */
  private static boolean step(SSLEngine engine, ByteBuffer out, ByteBuffer in, ByteBuffer app)
      throws SSLException {
    int before = out.position() + in.position();
    engine.wrap(ByteBuffer.allocate(0), out);
    runTasks(engine);
    in.flip();
    try {
      while (in.hasRemaining()) {
        int remaining = in.remaining();
        engine.unwrap(in, app);
        runTasks(engine);
        if (in.remaining() == remaining) {
          break;
        }
      }
    } finally {
      in.compact();
    }
    engine.wrap(ByteBuffer.allocate(0), out);
    runTasks(engine);
    return out.position() + in.position() != before;
  }

  private static void runTasks(SSLEngine engine) {
    for (Runnable task; (task = engine.getDelegatedTask()) != null; ) {
      task.run();
    }
  }
}
