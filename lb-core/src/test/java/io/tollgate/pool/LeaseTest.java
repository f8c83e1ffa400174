package io.tollgate.pool;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.embedded.EmbeddedChannel;
import io.tollgate.config.BackendProxyProtocol;
import io.tollgate.config.BalanceConfig;
import io.tollgate.config.HostPort;
import io.tollgate.health.PassiveSignals;
import io.tollgate.health.ServerKey;
import io.tollgate.health.ServerState;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * A lease gives its slot back exactly once on every path an attempt can take, and tells passive
 * ejection what the pool told it before leases existed: connect failures and resets before the
 * first byte fail, the first byte succeeds, a cancelled attempt says nothing.
 */
class LeaseTest {
  private final List<String> signals = new CopyOnWriteArrayList<>();
  private final Backend server = server(2);
  private final Pool pool =
      new Pool(
          "p",
          List.of(server),
          1,
          BalanceConfig.DEFAULTS,
          BackendProxyProtocol.OFF,
          new PassiveSignals() {
            @Override
            public void connectFailed(ServerState state, String why) {
              signals.add("failed: " + why);
            }

            @Override
            public void connectSucceeded(ServerState state) {
              signals.add("succeeded");
            }
          },
          System::nanoTime,
          () -> new Random(1));

  private static Backend server(int maxConnections) {
    InetSocketAddress a = new InetSocketAddress("127.0.0.1", 1);
    return new Backend(
        HostPort.parse("127.0.0.1:1"),
        a,
        1,
        maxConnections,
        new ServerState(new ServerKey("p", a), "127.0.0.1:1", true, System::nanoTime));
  }

  private int active() {
    return server.state().activeConnections();
  }

  @Test
  void aFailedAttemptGivesItsSlotBackAndCountsAsAConnectFailure() {
    Lease lease = pool.reserve(server);
    assertThat(active()).isEqualTo(1);

    lease.failed(new ConnectException("Connection refused"));

    assertThat(active()).isZero();
    assertThat(signals).containsExactly("failed: connect refused");
  }

  @Test
  void aCancelledAttemptGivesItsSlotBackAndDoesNotCountAsAFailure() {
    Lease lease = pool.reserve(server);

    lease.cancelled();
    lease.failed(new ConnectTimeoutException("too late")); // its future completes after cancel

    assertThat(active()).isZero();
    assertThat(signals).isEmpty();
  }

  @Test
  void aConnectedAttemptHoldsItsSlotUntilTheBackendChannelCloses() {
    Lease lease = pool.reserve(server);
    EmbeddedChannel backend = new EmbeddedChannel();

    lease.connected(backend);
    assertThat(active()).isEqualTo(1);
    assertThat(signals).as("success waits for the first byte").isEmpty();

    backend.close();
    assertThat(active()).isZero();
    backend.close();
    lease.release();
    assertThat(active()).isZero();
  }

  @Test
  void aDoubleReleaseDoesNotGoNegativeOrFreeAnotherConnectionsSlot() {
    Lease first = pool.reserve(server);
    Lease second = pool.reserve(server);
    assertThat(pool.reserve(server)).as("max-connections 2").isNull();
    assertThat(active()).isEqualTo(2);

    first.release();
    first.release();
    first.cancelled();
    first.failed(new ConnectException("Connection refused"));

    assertThat(active()).isEqualTo(1);
    second.release();
    second.release();
    assertThat(active()).isZero();
    assertThat(signals).isEmpty();
  }

  @Test
  void onlyTheFirstOutcomeOfAnAttemptCounts() {
    Lease failedFirst = pool.reserve(server);
    failedFirst.failed(new ConnectTimeoutException("connection timed out"));
    failedFirst.failed(new ConnectTimeoutException("connection timed out"));
    failedFirst.cancelled();
    EmbeddedChannel late = new EmbeddedChannel();
    failedFirst.connected(late);
    late.close();

    assertThat(active()).isZero();
    assertThat(signals).containsExactly("failed: connect timeout");
  }

  @Test
  void theFirstByteIsOneSuccessAndAResetAfterItSaysNothing() {
    Lease lease = pool.reserve(server);
    EmbeddedChannel backend = new EmbeddedChannel();
    lease.connected(backend);

    lease.answered();
    lease.answered();
    lease.resetBeforeFirstByte("Connection reset by peer");
    backend.close();

    assertThat(signals).containsExactly("succeeded");
    assertThat(active()).isZero();
  }

  @Test
  void aResetBeforeTheFirstByteCountsAsAConnectFailure() {
    Lease lease = pool.reserve(server);
    EmbeddedChannel backend = new EmbeddedChannel();
    lease.connected(backend);

    lease.resetBeforeFirstByte("Connection reset by peer");
    backend.close();

    assertThat(signals)
        .containsExactly("failed: reset before the first byte (Connection reset by peer)");
    assertThat(active()).isZero();
  }

  @Test
  void aFullServerLeasesNothingAndCountsNothing() {
    Backend full = server(1);
    Pool small = new Pool("p", List.of(full), 1);
    Lease only = small.reserve(full);

    assertThat(small.reserve(full)).isNull();
    assertThat(full.state().activeConnections()).isEqualTo(1);
    only.cancelled();
    assertThat(small.reserve(full)).isNotNull();
  }
}
