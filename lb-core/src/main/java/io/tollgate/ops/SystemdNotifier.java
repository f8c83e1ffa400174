package io.tollgate.ops;

import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.LinuxSocket;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells systemd how the service is doing ({@code sd_notify(3)}): one datagram per message, such as
 * {@code READY=1}, to the Unix datagram socket named by {@code NOTIFY_SOCKET} (a path, or an
 * abstract name written with a leading {@code @}). Without the variable it does nothing.
 *
 * <p>Why a datagram of our own rather than {@code systemd-notify --ready}: the JDK (17) has no Unix
 * datagram sockets, but Netty's epoll native library does; sending from this process lets the unit
 * keep {@code NotifyAccess=main}, whereas a short-lived {@code systemd-notify} child is another pid
 * (so {@code NotifyAccess=all}) and may exit before systemd reads its message. Without epoll
 * nothing is sent and a warning says so (use {@code Type=simple} there).
 */
public final class SystemdNotifier {
  private static final Logger log = LoggerFactory.getLogger(SystemdNotifier.class);
  private static final SystemdNotifier NONE = new SystemdNotifier(null);

  private final byte[] address;

  private SystemdNotifier(byte[] address) {
    this.address = address;
  }

  /** For {@code $NOTIFY_SOCKET}, or one that does nothing when it is not set. */
  public static SystemdNotifier fromEnvironment() {
    return forSocket(System.getenv("NOTIFY_SOCKET"));
  }

  /**
   * @param notifySocket a socket path, {@code @name} for an abstract socket, or null for none
   */
  public static SystemdNotifier forSocket(String notifySocket) {
    if (notifySocket == null || notifySocket.isEmpty()) {
      return NONE;
    }
    if (!notifySocket.startsWith("/") && !notifySocket.startsWith("@")) {
      log.warn("NOTIFY_SOCKET \"{}\" is neither a path nor @abstract; not notifying", notifySocket);
      return NONE;
    }
    if (!Epoll.isAvailable()) {
      log.warn(
          "NOTIFY_SOCKET is set but the epoll native library, which sends the notification, is"
              + " not available: systemd is not told that Tollgate is ready ({})",
          Epoll.unavailabilityCause().toString());
      return NONE;
    }
    byte[] path = notifySocket.getBytes(StandardCharsets.UTF_8);
    if (path[0] == '@') {
      path[0] = 0; // the abstract namespace: sun_path starts with a NUL byte
    }
    return new SystemdNotifier(path);
  }

  /** True when messages go somewhere. */
  public boolean enabled() {
    return address != null;
  }

  /** {@code READY=1}: listeners are bound or adopted and every TLS context is built. */
  public void ready(String status) {
    send("READY=1\nSTATUS=" + oneLine(status));
  }

  /** {@code STOPPING=1}: the stop (drain) has begun. */
  public void stopping(String status) {
    send("STOPPING=1\nSTATUS=" + oneLine(status));
  }

  /**
   * {@code MAINPID=}: an upgrade handed the sockets to process {@code pid}, which serves from now
   * on. Sent by the old main process (allowed with {@code NotifyAccess=main}) before it drains and
   * exits, so systemd follows the new process instead of taking the old one's exit for the
   * service's end.
   */
  public void mainPid(long pid, String status) {
    send("MAINPID=" + pid + "\nSTATUS=" + oneLine(status));
  }

  private static String oneLine(String s) {
    return s.replace('\n', ' ');
  }

  /** Sends one message; a failure is logged, never thrown (systemd's own client does the same). */
  void send(String message) {
    if (address == null) {
      return;
    }
    byte[] bytes = message.getBytes(StandardCharsets.UTF_8);
    ByteBuffer buf = ByteBuffer.allocateDirect(bytes.length).put(bytes).flip();
    LinuxSocket socket = LinuxSocket.newSocketDomainDgram();
    try {
      int sent = socket.sendToDomainSocket(buf, 0, bytes.length, address);
      if (sent != bytes.length) {
        log.warn("systemd notification not sent (socket busy): {}", message.replace('\n', ' '));
      }
    } catch (IOException e) {
      log.warn("systemd notification not sent: {} ({})", message.replace('\n', ' '), e.toString());
    } finally {
      try {
        socket.close();
      } catch (IOException e) {
        // nothing was held
      }
    }
  }
}
