package io.tollgate.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.tollgate.config.BackendProxyProtocol;
import io.tollgate.config.BalanceConfig;
import io.tollgate.config.HostPort;
import io.tollgate.health.PassiveSignals;
import io.tollgate.health.ServerKey;
import io.tollgate.health.ServerState;
import io.tollgate.pool.Backend;
import io.tollgate.pool.Lease;
import io.tollgate.pool.Pool;
import io.tollgate.pool.PoolFullException;
import io.tollgate.testkit.FreePorts;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The connector takes a slot per attempt from the pool and reports each outcome: a server that
 * became full since the pick is skipped; a connect failure releases its slot and reaches passive
 * ejection; a connected backend holds its slot until it closes; a cancelled attempt gives its slot
 * back without counting as a failure.
 */
class BackendConnectorSlotsTest {
  private EventLoopGroup group;
  private ServerSocket open;
  private Channel client;
  private final List<String> failures = new CopyOnWriteArrayList<>();
  private final RelaySettings settings =
      new RelaySettings(
          Duration.ofSeconds(2),
          Duration.ofSeconds(5),
          Duration.ofSeconds(5),
          NioSocketChannel.class,
          RelaySettings.DEFAULT_WATER_MARK);

  @BeforeEach
  void setUp() throws Exception {
    group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    open = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    client =
        new Bootstrap()
            .group(group)
            .channel(NioSocketChannel.class)
            .handler(new ChannelInboundHandlerAdapter())
            .connect(open.getLocalSocketAddress())
            .sync()
            .channel();
  }

  @AfterEach
  void tearDown() throws Exception {
    client.close().sync();
    open.close();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
  }

  private static Backend backend(int port, int max) {
    InetSocketAddress a = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
    return new Backend(
        new HostPort("127.0.0.1", port),
        a,
        1,
        max,
        new ServerState(new ServerKey("p", a), "127.0.0.1:" + port, true, System::nanoTime));
  }

  private Pool pool(List<Backend> servers) {
    PassiveSignals signals =
        new PassiveSignals() {
          @Override
          public void connectFailed(ServerState state, String why) {
            failures.add(state.label() + ": " + why);
          }

          @Override
          public void connectSucceeded(ServerState state) {}
        };
    return new Pool(
        "p",
        servers,
        3,
        BalanceConfig.DEFAULTS,
        BackendProxyProtocol.OFF,
        signals,
        System::nanoTime,
        () -> new Random(1));
  }

  /** Runs a connector on the client's loop; completes with the backend channel or the cause. */
  private CompletableFuture<Object> connect(List<Backend> order, Pool pool) throws Exception {
    CompletableFuture<Object> result = new CompletableFuture<>();
    client
        .eventLoop()
        .submit(
            () ->
                new BackendConnector(
                        client,
                        pool,
                        order,
                        settings,
                        null,
                        new BackendConnector.Outcome() {
                          @Override
                          public void connected(Channel backend, Lease lease, long nanos) {
                            result.complete(backend);
                          }

                          @Override
                          public void failed(Backend last, Throwable cause, int attempts) {
                            result.complete(cause);
                          }
                        })
                    .start())
        .sync();
    return result;
  }

  @Test
  void refusedServerReleasesItsSlotReportsTheFailureAndTheNextOneHoldsASlotUntilClosed()
      throws Exception {
    int deadPort = FreePorts.next();
    Backend dead = backend(deadPort, 0);
    Backend live = backend(open.getLocalPort(), 0);
    Pool pool = pool(List.of(dead, live));

    Object result = connect(List.of(dead, live), pool).get(5, TimeUnit.SECONDS);

    assertThat(result).isInstanceOf(Channel.class);
    assertThat(failures).containsExactly("127.0.0.1:" + deadPort + ": connect refused");
    assertThat(dead.state().activeConnections()).isZero();
    assertThat(live.state().activeConnections()).isEqualTo(1);
    ((Channel) result).close().sync();
    client.eventLoop().submit(() -> {}).sync(); // let the close listener run
    assertThat(live.state().activeConnections()).isZero();
  }

  @Test
  void aServerThatFilledUpSinceThePickIsSkippedAndAllFullEndsAsPoolFull() throws Exception {
    Backend a = backend(open.getLocalPort(), 1);
    Pool pool = pool(List.of(a));
    assertThat(pool.reserve(a)).isNotNull(); // another connection took the last slot

    Object result = connect(List.of(a), pool).get(5, TimeUnit.SECONDS);

    assertThat(result).isInstanceOf(PoolFullException.class);
    assertThat(a.state().activeConnections()).isEqualTo(1);
    assertThat(failures).isEmpty();
  }

  @Test
  void aCancelledAttemptGivesItsSlotBackAndIsNotAFailure() throws Exception {
    Backend a = backend(open.getLocalPort(), 1);
    Pool pool = pool(List.of(a));
    CompletableFuture<Object> result = new CompletableFuture<>();
    int during =
        client
            .eventLoop()
            .submit(
                () -> {
                  BackendConnector connector =
                      new BackendConnector(
                          client,
                          pool,
                          List.of(a),
                          settings,
                          null,
                          new BackendConnector.Outcome() {
                            @Override
                            public void connected(Channel backend, Lease lease, long nanos) {
                              result.complete(backend);
                            }

                            @Override
                            public void failed(Backend last, Throwable cause, int attempts) {
                              result.complete(cause);
                            }
                          });
                  connector.start();
                  int reserved = a.state().activeConnections();
                  connector.cancel(); // the client went away before the connect could complete
                  return reserved;
                })
            .get(5, TimeUnit.SECONDS);

    assertThat(during).as("slot taken for the attempt").isEqualTo(1);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (a.state().activeConnections() != 0 && System.nanoTime() < deadline) {
      client.eventLoop().submit(() -> {}).sync(); // the cancelled connect completes on the loop
    }
    assertThat(a.state().activeConnections()).isZero();
    assertThat(failures).as("passive ejection heard nothing").isEmpty();
    assertThat(result).as("the caller heard nothing").isNotDone();
  }
}
