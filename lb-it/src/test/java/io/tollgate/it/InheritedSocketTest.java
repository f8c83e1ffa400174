package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.LinuxSocket;
import io.tollgate.Tollgate;
import io.tollgate.config.ConfigLoader;
import io.tollgate.config.IoConfig;
import io.tollgate.listener.InheritedSockets;
import io.tollgate.pki.CertificateAuthority;
import io.tollgate.pki.CertificateAuthority.KeyType;
import io.tollgate.testkit.TlsTestClient;
import io.tollgate.testkit.TlsTestServer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Listening sockets handed to Tollgate (systemd socket activation, an upgrade) are adopted, not
 * bound again: a connection that waited in the socket's accept queue before Tollgate started is
 * served, a socket is matched by listener name or else by address, and one no listener wants is
 * closed.
 */
class InheritedSocketTest {
  private static CertificateAuthority ca;
  @RegisterExtension static final ClassResources resources = new ClassResources();
  private static TlsTestServer backend;
  private LinuxSocket listening;
  private Tollgate tollgate;

  @BeforeAll
  static void start() throws Exception {
    assumeTrue(Epoll.isAvailable(), "epoll only");
    ca = CertificateAuthority.create("Tollgate IT CA", KeyType.EC_P256);
    backend =
        resources.add(
            TlsTestServer.start(
                ca.issue(KeyType.EC_P256, "pass.test"), TlsTestServer.greet("adopted")));
  }

  @AfterEach
  void stop() throws Exception {
    if (tollgate != null) {
      tollgate.close();
    }
    if (listening != null && listening.isOpen()) {
      listening.close();
    }
  }

  /** A socket bound and listening on 127.0.0.1 by "someone else" (systemd, the old process). */
  private InetSocketAddress listen() throws Exception {
    listening = LinuxSocket.newSocketStream(false);
    listening.setReuseAddress(true);
    listening.bind(new InetSocketAddress("127.0.0.1", 0));
    listening.listen(128);
    return (InetSocketAddress) listening.localAddress();
  }

  private static String config(String listener, String address) {
    return String.format(
        """
        tollgate {
          listeners = [ { name = %s, address = "%s" } ]
          routes = [ { hosts = ["pass.test"], mode = passthrough, pool = pass } ]
          pools { pass { servers = ["127.0.0.1:%d"] } }
        }
        """,
        listener, address, backend.port());
  }

  private static String greeting(int port) throws Exception {
    try (TlsTestClient.Connection c = TlsTestClient.connect(port, "pass.test", ca)) {
      return new BufferedReader(
              new InputStreamReader(c.socket().getInputStream(), StandardCharsets.UTF_8))
          .readLine();
    }
  }

  @Test
  void aConnectionQueuedBeforeTollgateStartedIsServedOnTheAdoptedSocket() throws Exception {
    InetSocketAddress at = listen();
    // Connected in the kernel's accept queue: nobody accepts yet.
    try (Socket early = new Socket()) {
      early.connect(at, 2000);
      tollgate =
          Tollgate.start(
              ConfigLoader.parse(config("main", "127.0.0.1:0"), "it.conf"),
              IoConfig.Transport.EPOLL,
              InheritedSockets.of(
                  List.of(new InheritedSockets.Socket("main", listening.intValue()))));
      listening = null; // Tollgate owns it now
      assertThat(tollgate.address("main")).isEqualTo(at);
      // The early connection was accepted by Tollgate: its hello is routed like any other.
      try (TlsTestClient.Connection c = TlsTestClient.over(early, "pass.test", ca)) {
        assertThat(
                new BufferedReader(
                        new InputStreamReader(c.socket().getInputStream(), StandardCharsets.UTF_8))
                    .readLine())
            .contains("adopted");
      }
    }
    assertThat(greeting(at.getPort())).contains("adopted");
  }

  @Test
  void anUnnamedSocketIsTakenByTheListenerConfiguredAtItsAddress() throws Exception {
    InetSocketAddress at = listen();
    tollgate =
        Tollgate.start(
            ConfigLoader.parse(config("edge", "127.0.0.1:" + at.getPort()), "it.conf"),
            IoConfig.Transport.EPOLL,
            InheritedSockets.of(List.of(new InheritedSockets.Socket(null, listening.intValue()))));
    listening = null;
    assertThat(tollgate.address("edge")).isEqualTo(at);
    assertThat(greeting(at.getPort())).contains("adopted");
  }

  @Test
  void aSocketNoListenerWantsIsClosedAndTheListenerBindsItsOwn() throws Exception {
    InetSocketAddress at = listen();
    tollgate =
        Tollgate.start(
            ConfigLoader.parse(config("main", "127.0.0.1:0"), "it.conf"),
            IoConfig.Transport.EPOLL,
            InheritedSockets.of(
                List.of(new InheritedSockets.Socket("other", listening.intValue()))));
    listening = null;
    assertThat(tollgate.address("main")).isNotEqualTo(at);
    assertThat(greeting(tollgate.address("main").getPort())).contains("adopted");
    // This process held the only copy: closed, the port refuses.
    assertThatThrownBy(
            () -> {
              try (Socket s = new Socket()) {
                s.connect(at, 2000);
              }
            })
        .isInstanceOf(ConnectException.class);
  }

  @ParameterizedTest
  @EnumSource(
      value = IoConfig.Transport.class,
      names = {"NIO", "IO_URING"})
  void inheritedSocketsNeedEpoll(IoConfig.Transport transport) throws Exception {
    listen();
    InheritedSockets sockets =
        InheritedSockets.of(List.of(new InheritedSockets.Socket("main", listening.intValue())));
    assertThatThrownBy(
            () ->
                Tollgate.start(
                    ConfigLoader.parse(config("main", "127.0.0.1:0"), "it.conf"),
                    transport,
                    sockets))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("need the epoll transport");
  }
}
