package io.tollgate.listener;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.tollgate.accesslog.AccessLog;
import io.tollgate.config.ConfigLoader;
import io.tollgate.config.HostPort;
import io.tollgate.config.IoConfig;
import io.tollgate.config.ListenerConfig;
import io.tollgate.config.TollgateConfig;
import io.tollgate.limits.ConnectionLimits;
import io.tollgate.metrics.Metrics;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code listeners[].reuse-port} and {@code freebind} end up on the listening socket, read back
 * from the kernel (getsockopt through the epoll channel's config); with NIO, asking for them fails
 * the bind with a message that says why. Loopback only: binding an address no interface has (what
 * freebind is for) is not done in tests.
 */
@Timeout(30)
class ListenerSocketOptionsTest {
  private EventLoopGroup acceptors;
  private EventLoopGroup workers;
  private Listeners listeners;
  private AccessLog accessLog;

  private Listeners listeners(IoConfig.Transport wanted, TollgateConfig config) {
    Transport transport = Transport.select(wanted);
    acceptors = transport.newGroup(1, "test-accept");
    workers = transport.newGroup(1, "test-worker");
    accessLog = new AccessLog(() -> {});
    listeners =
        new Listeners(
            transport,
            InheritedSockets.none(),
            acceptors,
            workers,
            () -> null, // nothing connects: no snapshot is read
            new Metrics(),
            new ConnectionLimits(config),
            accessLog,
            null);
    return listeners;
  }

  private static TollgateConfig config(String listeners) throws Exception {
    return ConfigLoader.parse(
        "tollgate { listeners = [" + listeners + "]\n pools.p.servers = [\"127.0.0.1:9\"] }",
        "test.conf");
  }

  @AfterEach
  void tearDown() {
    if (listeners != null) {
      listeners.close();
    }
    if (acceptors != null) {
      acceptors.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
      workers.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
    if (accessLog != null) {
      accessLog.close();
    }
  }

  @ParameterizedTest
  @EnumSource(
      value = IoConfig.Transport.class,
      names = {"EPOLL", "IO_URING"})
  void freebindAndReusePortAreSetOnTheListeningSocketOnlyWhenAskedFor(IoConfig.Transport transport)
      throws Exception {
    assumeTrue(
        transport == IoConfig.Transport.EPOLL ? Epoll.isAvailable() : IoUring.isAvailable(),
        transport + " not available here");
    TollgateConfig config =
        config("{ name = both, address = \"127.0.0.1:0\", reuse-port = true, freebind = true }");
    Listeners l = listeners(transport, config);
    // Built here: a config may not hold two listeners on 127.0.0.1:0.
    l.bind(
        List.of(
            config.listeners().get(0), new ListenerConfig("plain", new HostPort("127.0.0.1", 0))));

    assertThat(l.channel("both"))
        .isInstanceOf(
            transport == IoConfig.Transport.EPOLL
                ? EpollServerSocketChannel.class
                : IoUringServerSocketChannel.class);
    // Read back from the kernel (getsockopt); the two transports' options are the same objects.
    var both = l.channel("both").config();
    assertThat(both.getOption(EpollChannelOption.IP_FREEBIND)).isTrue();
    assertThat(both.getOption(EpollChannelOption.SO_REUSEPORT)).isTrue();
    var plain = l.channel("plain").config();
    assertThat(plain.getOption(EpollChannelOption.IP_FREEBIND)).isFalse();
    assertThat(plain.getOption(EpollChannelOption.SO_REUSEPORT)).isFalse();
  }

  @Test
  void withNioAListenerAskingForThemIsNotBoundAndTheErrorSaysWhy() throws Exception {
    TollgateConfig config =
        config("{ name = edge, address = \"127.0.0.1:0\", reuse-port = true, freebind = true }");
    Listeners l = listeners(IoConfig.Transport.NIO, config);

    assertThatThrownBy(() -> l.bind(config.listeners()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage(
            "listener edge: reuse-port and freebind need a native transport (epoll or io_uring),"
                + " but this process uses nio (--nio, io.transport = nio, or epoll did not load);"
                + " remove them or run with epoll");
    assertThat(l.addresses()).isEmpty();
  }
}
