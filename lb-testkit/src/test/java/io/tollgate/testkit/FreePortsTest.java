package io.tollgate.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class FreePortsTest {

  @Test
  void portsAreNeverHandedOutTwiceAndEachCanBeBoundWithoutReuse() throws Exception {
    Set<Integer> seen = new HashSet<>();
    List<ServerSocket> bound = new ArrayList<>();
    try {
      for (int i = 0; i < 200; i++) {
        int port = FreePorts.next();
        assertThat(seen.add(port)).as("port %d handed out twice", port).isTrue();
        ServerSocket s = new ServerSocket();
        bound.add(s);
        s.setReuseAddress(false);
        s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1);
      }
    } finally {
      for (ServerSocket s : bound) {
        s.close();
      }
    }
  }

  /** The point of the class: an outgoing connection's local port can never be one of these. */
  @Test
  void portsLieOutsideTheKernelsEphemeralRange() throws Exception {
    var range = Sysctl.numbers("net.ipv4.ip_local_port_range");
    org.junit.jupiter.api.Assumptions.assumeTrue(range.isPresent(), "Linux only");
    int low = (int) range.get()[0];
    int high = (int) range.get()[1];
    try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Socket client = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort())) {
      // Sanity check of the reading: the kernel picked this client's port from that range.
      assertThat(client.getLocalPort()).isBetween(low, high);
    }
    for (int i = 0; i < 100; i++) {
      int port = FreePorts.next();
      assertThat(port < low || port > high).as("port %d in %d..%d", port, low, high).isTrue();
    }
  }
}
