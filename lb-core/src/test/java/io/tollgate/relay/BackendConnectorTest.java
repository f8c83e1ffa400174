package io.tollgate.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.Future;
import io.tollgate.config.HostPort;
import io.tollgate.pool.Backend;
import io.tollgate.pool.Lease;
import io.tollgate.pool.Pool;
import io.tollgate.testkit.Await;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class BackendConnectorTest {

  private static Backend backendAt(ServerSocket s) {
    InetSocketAddress a = (InetSocketAddress) s.getLocalSocketAddress();
    return new Backend(new HostPort("127.0.0.1", a.getPort()), a, 1);
  }

  @Test
  void cancellingWhileConnectingTriesNoOtherServerAndReportsNothing() throws Exception {
    // First server: a listener whose backlog is full, so a connect to it hangs (SYN dropped).
    // Second server: one that accepts. Cancelling during the first attempt must not start the
    // second, which would leave a connected backend socket that nobody owns.
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    List<Socket> fillers = new ArrayList<>();
    try (ServerSocket full = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        ServerSocket open = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      for (int i = 0; i < 4; i++) {
        Socket filler = new Socket();
        try {
          filler.connect(full.getLocalSocketAddress(), 200);
          fillers.add(filler);
        } catch (java.io.IOException e) {
          filler.close();
        }
      }
      List<Socket> accepted = new CopyOnWriteArrayList<>();
      Thread acceptor =
          new Thread(
              () -> {
                try {
                  while (true) {
                    accepted.add(open.accept());
                  }
                } catch (java.io.IOException closed) {
                  // test over
                }
              });
      acceptor.setDaemon(true);
      acceptor.start();
      Channel client =
          new Bootstrap()
              .group(group)
              .channel(NioSocketChannel.class)
              .handler(new ChannelInboundHandlerAdapter())
              .connect(open.getLocalSocketAddress())
              .sync()
              .channel();
      Await.until(() -> accepted.size() == 1, Duration.ofSeconds(5));
      int before = accepted.size();

      AtomicReference<String> outcome = new AtomicReference<>("none");
      RelaySettings settings =
          new RelaySettings(
              Duration.ofSeconds(5),
              Duration.ofSeconds(5),
              Duration.ofSeconds(5),
              NioSocketChannel.class,
              RelaySettings.DEFAULT_WATER_MARK);
      AtomicReference<Future<?>> cancelled = new AtomicReference<>();
      client
          .eventLoop()
          .submit(
              () -> {
                List<Backend> order = List.of(backendAt(full), backendAt(open));
                BackendConnector connector =
                    new BackendConnector(
                        client,
                        new Pool("p", order, 2),
                        order,
                        settings,
                        null,
                        new BackendConnector.Outcome() {
                          @Override
                          public void connected(Channel backend, Lease lease, long nanos) {
                            outcome.set("connected");
                          }

                          @Override
                          public void failed(Backend last, Throwable cause, int attempts) {
                            outcome.set("failed");
                          }
                        });
                connector.start();
                cancelled.set(
                    client.eventLoop().schedule(connector::cancel, 300, TimeUnit.MILLISECONDS));
              })
          .sync();
      cancelled.get().sync();
      // A wrong next attempt would have been started inside cancel(). The listener accepts in
      // order, so once a later connection is accepted, any such attempt has been too; a task
      // run after that on the loop comes after its connect completed.
      try (Socket marker = new Socket(InetAddress.getLoopbackAddress(), open.getLocalPort())) {
        int local = marker.getLocalPort();
        Await.until(
            () -> accepted.stream().anyMatch(a -> a.getPort() == local), Duration.ofSeconds(5));
        for (Socket a : accepted) {
          if (a.getPort() == local) {
            a.close();
            accepted.remove(a);
          }
        }
      }
      client.eventLoop().submit(() -> {}).sync();

      assertThat(outcome.get()).isEqualTo("none");
      assertThat(accepted.size() - before).as("connections opened after cancel").isZero();
      client.close().sync();
    } finally {
      for (Socket f : fillers) {
        f.close();
      }
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }
  }
}
