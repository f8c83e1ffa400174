package io.tollgate.testkit;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * A tiny UDP DNS responder on 127.0.0.1 that answers every A query with 127.0.0.1 and every other
 * query with no records (NOERROR), so a program that resolves names itself (pebble's validator,
 * with {@code -dnsserver}) reaches a loopback server for any test name.
 */
public final class DnsTestServer implements AutoCloseable {
  private static final int TYPE_A = 1;

  private final DatagramSocket socket;
  private final Thread thread;

  private DnsTestServer(DatagramSocket socket) {
    this.socket = socket;
    this.thread = new Thread(this::serve, "dns-test-server");
    thread.setDaemon(true);
    thread.start();
  }

  /** Binds 127.0.0.1 on a free port. */
  public static DnsTestServer start() throws SocketException {
    return new DnsTestServer(
        new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)));
  }

  /** {@code 127.0.0.1:port}, as {@code -dnsserver} takes it. */
  public String address() {
    return "127.0.0.1:" + socket.getLocalPort();
  }

  private void serve() {
    byte[] buffer = new byte[1500];
    while (!socket.isClosed()) {
      DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
      try {
        socket.receive(packet);
        byte[] answer = answer(Arrays.copyOf(packet.getData(), packet.getLength()));
        if (answer != null) {
          socket.send(new DatagramPacket(answer, answer.length, packet.getSocketAddress()));
        }
      } catch (IOException e) {
        // closed, or one bad packet: go on until closed
      }
    }
  }

  /** The response to one query, or null when it is not one question we can parse. */
  static byte[] answer(byte[] query) {
    if (query.length < 12 || ((query[4] << 8) | (query[5] & 0xff)) != 1) {
      return null;
    }
    int end = 12;
    while (end < query.length && query[end] != 0) {
      end += (query[end] & 0xff) + 1;
    }
    end += 5; // the root label, QTYPE, QCLASS
    if (end > query.length) {
      return null;
    }
    int type = ((query[end - 4] & 0xff) << 8) | (query[end - 3] & 0xff);
    boolean a = type == TYPE_A;
    ByteBuffer out = ByteBuffer.allocate(end + (a ? 16 : 0));
    out.put(query, 0, 2); // ID
    out.put((byte) (0x80 | (query[2] & 0x01))); // QR, opcode QUERY, RD copied
    out.put((byte) 0x80); // RA, NOERROR
    out.putShort((short) 1).putShort((short) (a ? 1 : 0)).putShort((short) 0).putShort((short) 0);
    out.put(query, 12, end - 12);
    if (a) {
      out.putShort((short) 0xC00C).putShort((short) TYPE_A).putShort((short) 1);
      out.putInt(5).putShort((short) 4).put(new byte[] {127, 0, 0, 1});
    }
    return out.array();
  }

  @Override
  public void close() throws InterruptedException {
    socket.close();
    thread.join(5_000);
  }
}
