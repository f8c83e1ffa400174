package io.tollgate.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.LinuxSocket;
import io.netty.channel.unix.DomainDatagramSocketAddress;
import io.netty.channel.unix.DomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * sd_notify datagrams reach a real Unix datagram socket, at a path or in the abstract namespace.
 */
class SystemdNotifierTest {
  @TempDir Path dir;

  @BeforeAll
  static void epoll() {
    assumeTrue(Epoll.isAvailable(), "the notifier sends through the epoll native library");
  }

  @Test
  void readyAndStoppingReachASocketAtAPath() throws Exception {
    String path = dir.resolve("notify").toString();
    LinuxSocket systemd = LinuxSocket.newSocketDomainDgram();
    try {
      systemd.bind(new DomainSocketAddress(path));
      SystemdNotifier notifier = SystemdNotifier.forSocket(path);
      assertThat(notifier.enabled()).isTrue();
      notifier.ready("serving main=/127.0.0.1:443");
      assertThat(receive(systemd)).isEqualTo("READY=1\nSTATUS=serving main=/127.0.0.1:443");
      notifier.mainPid(4711, "upgraded to process 4711");
      assertThat(receive(systemd)).isEqualTo("MAINPID=4711\nSTATUS=upgraded to process 4711");
      notifier.stopping("draining\nnow");
      assertThat(receive(systemd)).isEqualTo("STOPPING=1\nSTATUS=draining now");
    } finally {
      systemd.close();
    }
  }

  @Test
  void anAtSignMeansTheAbstractNamespace() throws Exception {
    String name = "tollgate-notify-test-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
    LinuxSocket systemd = LinuxSocket.newSocketDomainDgram();
    try {
      systemd.bind(new DomainSocketAddress("\0" + name));
      SystemdNotifier.forSocket("@" + name).ready("up");
      assertThat(receive(systemd)).isEqualTo("READY=1\nSTATUS=up");
    } finally {
      systemd.close();
    }
  }

  @Test
  void withoutNotifySocketNothingIsSent() {
    assertThat(SystemdNotifier.forSocket(null).enabled()).isFalse();
    assertThat(SystemdNotifier.forSocket("").enabled()).isFalse();
    assertThat(SystemdNotifier.forSocket("relative/path").enabled()).isFalse();
  }

  private static String receive(LinuxSocket socket) throws Exception {
    ByteBuffer buf = ByteBuffer.allocateDirect(4096);
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (System.nanoTime() < deadline) {
      DomainDatagramSocketAddress from = socket.recvFromDomainSocket(buf, 0, buf.capacity());
      if (from != null) {
        byte[] bytes = new byte[from.receivedAmount()];
        buf.get(0, bytes);
        return new String(bytes, StandardCharsets.UTF_8);
      }
      Thread.sleep(5);
    }
    throw new AssertionError("no datagram within 10 s");
  }
}
