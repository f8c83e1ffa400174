package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.testkit.CommandLineTools;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** This machine's TCP sockets (all but listening ones) as {@code ss -tmn} lists them. */
final class SsSockets {
  private static final Pattern RB = Pattern.compile("skmem:\\(\\S*?\\brb(\\d+)");

  /**
   * One socket.
   *
   * @param state as ss names it: ESTAB, CLOSE-WAIT, ...
   * @param receiveQueue bytes that arrived and the owner has not read (Recv-Q)
   * @param receiveBuffer the receive buffer's size (skmem rb)
   */
  record Socket(String state, long receiveQueue, int localPort, int peerPort, long receiveBuffer) {}

  private SsSockets() {}

  /** The one socket with this local port ({@code -1}: any) and peer port; fails unless one. */
  static Socket one(int localPort, int peerPort) {
    List<Socket> found = new ArrayList<>();
    for (Socket s : list()) {
      if ((localPort < 0 || s.localPort() == localPort) && s.peerPort() == peerPort) {
        found.add(s);
      }
    }
    assertThat(found).as("sockets %d -> %d", localPort, peerPort).hasSize(1);
    return found.get(0);
  }

  static List<Socket> list() {
    var result = CommandLineTools.run(Duration.ofSeconds(10), "ss", "-tmnH");
    assertThat(result.ok()).as("ss: %s", result.stderr()).isTrue();
    List<Socket> sockets = new ArrayList<>();
    String[] lines = result.stdout().split("\n");
    for (int i = 0; i < lines.length; i++) {
      String[] f = lines[i].trim().split("\\s+");
      if (lines[i].isBlank() || Character.isWhitespace(lines[i].charAt(0)) || f.length < 5) {
        continue;
      }
      // skmem is on the same line or, when ss wraps, on the next (indented) one.
      Matcher m = RB.matcher(lines[i] + (i + 1 < lines.length ? lines[i + 1] : ""));
      sockets.add(
          new Socket(
              f[0],
              Long.parseLong(f[1]),
              port(f[3]),
              port(f[4]),
              m.find() ? Long.parseLong(m.group(1)) : -1));
    }
    return sockets;
  }

  private static int port(String address) {
    return Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
  }
}
