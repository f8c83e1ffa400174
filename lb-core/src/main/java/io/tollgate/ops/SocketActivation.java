package io.tollgate.ops;

import io.tollgate.listener.InheritedSockets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The listening sockets systemd hands a service it starts from a socket unit, read the way {@code
 * sd_listen_fds_with_names(3)} reads them: {@code LISTEN_FDS} descriptors from 3 on, only when
 * {@code LISTEN_PID} is this process (the variables are inherited by children, which must not take
 * the sockets for theirs), named by {@code LISTEN_FDNAMES} (the socket unit's {@code
 * FileDescriptorName=}, colon-separated, in order).
 *
 * <p>A name that is no listener's own counts as none, so the socket is matched by its address:
 * {@code unknown} (no names given), {@code connection} ({@code Accept=yes}) and a socket unit's
 * name ({@code tollgate.socket}), which systemd uses when {@code FileDescriptorName=} is not set.
 *
 * <p>The JVM cannot unset its own environment, as {@code sd_listen_fds(1)} does. It does not need
 * to: a child whose pid is not {@code LISTEN_PID} ignores the variables, and the JDK closes every
 * descriptor above 2 in the processes it starts, so no child holds the sockets.
 */
public final class SocketActivation {
  /** The first descriptor systemd passes ({@code SD_LISTEN_FDS_START}). */
  public static final int FIRST_FD = 3;

  private SocketActivation() {}

  /** The sockets systemd passed to this process, or none. */
  public static List<InheritedSockets.Socket> fromEnvironment() {
    return parse(System.getenv(), ProcessHandle.current().pid());
  }

  /**
   * @param env the environment
   * @param pid this process's id
   * @throws IllegalStateException when the variables are meant for this process but malformed
   */
  static List<InheritedSockets.Socket> parse(Map<String, String> env, long pid) {
    String listenPid = env.get("LISTEN_PID");
    String listenFds = env.get("LISTEN_FDS");
    if (listenPid == null || listenFds == null || !listenPid.trim().equals(Long.toString(pid))) {
      return List.of();
    }
    int count;
    try {
      count = Integer.parseInt(listenFds.trim());
    } catch (NumberFormatException e) {
      throw new IllegalStateException("LISTEN_FDS is not a number: \"" + listenFds + "\"");
    }
    if (count < 0) {
      throw new IllegalStateException("LISTEN_FDS is negative: " + count);
    }
    String names = env.get("LISTEN_FDNAMES");
    String[] split = names == null || count == 0 ? new String[0] : names.split(":", -1);
    if (names != null && count > 0 && split.length != count) {
      throw new IllegalStateException(
          "LISTEN_FDNAMES has "
              + split.length
              + " name(s) for LISTEN_FDS="
              + count
              + " descriptor(s): \""
              + names
              + "\"");
    }
    List<InheritedSockets.Socket> sockets = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      String name = i < split.length ? split[i] : null;
      sockets.add(new InheritedSockets.Socket(isName(name) ? name : null, FIRST_FD + i));
    }
    return sockets;
  }

  private static boolean isName(String name) {
    return name != null
        && !name.isEmpty()
        && !name.equals("unknown")
        && !name.equals("connection")
        && !name.endsWith(".socket");
  }
}
