package io.tollgate.listener;

import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollServerSocketChannel;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Listening sockets this process was handed instead of binding its own: by systemd (socket
 * activation) or by the Tollgate it replaces (an upgrade). A listener takes the one that carries
 * its name or, when none does, the one bound to its configured address; each socket is taken at
 * most once.
 *
 * <p>Why adopt instead of binding again: the socket, with its accept queue, outlives the process
 * that accepts on it. Connections that arrive while one process gives way to the next wait in that
 * queue instead of being refused, which a new bind (even with SO_REUSEPORT, whose queues are per
 * socket) cannot promise.
 *
 * <p>Epoll only: the JDK's NIO cannot wrap a file descriptor it did not open.
 */
public final class InheritedSockets {
  private static final Logger log = LoggerFactory.getLogger(InheritedSockets.class);
  private static final InheritedSockets NONE = new InheritedSockets(List.of());

  /**
   * One listening socket.
   *
   * @param name the listener it belongs to, or null when only its address says (systemd without
   *     {@code FileDescriptorName=})
   * @param fd the open file descriptor, listening already
   */
  public record Socket(String name, int fd) {}

  private final List<Candidate> available = new ArrayList<>();

  private record Candidate(String name, EpollServerSocketChannel channel) {}

  private InheritedSockets(List<Socket> sockets) {
    if (!sockets.isEmpty() && !Epoll.isAvailable()) {
      throw new IllegalStateException(
          "inherited listening sockets need the epoll transport, which is not available here: "
              + Epoll.unavailabilityCause());
    }
    for (Socket s : sockets) {
      // The channel reads the socket's local address now; nothing is registered or read yet.
      available.add(new Candidate(s.name(), new EpollServerSocketChannel(s.fd())));
    }
  }

  /** No inherited sockets: every listener binds its own. */
  public static InheritedSockets none() {
    return NONE;
  }

  /**
   * @throws IllegalStateException when epoll is not available
   */
  public static InheritedSockets of(List<Socket> sockets) {
    return sockets.isEmpty() ? NONE : new InheritedSockets(sockets);
  }

  /**
   * The socket for a listener, which the caller then owns: the one named {@code listener}, else the
   * unnamed one bound to {@code address}; null when there is none (bind a new one). A configured
   * port 0 matches no address.
   */
  synchronized EpollServerSocketChannel take(String listener, InetSocketAddress address) {
    Candidate found = null;
    for (Candidate c : available) {
      if (listener.equals(c.name())) {
        found = c;
        break;
      }
    }
    if (found == null && address.getPort() != 0) {
      for (Candidate c : available) {
        if (c.name() == null && address.equals(c.channel().localAddress())) {
          found = c;
          break;
        }
      }
    }
    if (found != null) {
      available.remove(found);
      return found.channel();
    }
    return null;
  }

  /** How many sockets no listener has taken yet. */
  public synchronized int remaining() {
    return available.size();
  }

  /**
   * Closes the sockets no listener took, so this process does not hold a queue that nobody accepts
   * from. Where the sender keeps its own copy (systemd, an old process still draining) the socket
   * itself stays open there.
   */
  public synchronized void closeUnclaimed() {
    for (Iterator<Candidate> it = available.iterator(); it.hasNext(); ) {
      Candidate c = it.next();
      log.warn(
          "inherited listening socket {} at {} matches no listener; closing this process's copy",
          c.name() != null ? c.name() : "(unnamed)",
          c.channel().localAddress());
      c.channel().unsafe().closeForcibly();
      it.remove();
    }
  }
}
