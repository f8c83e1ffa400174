package io.tollgate.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.tollgate.config.BackendProxyProtocol;
import io.tollgate.config.BalanceConfig;
import io.tollgate.config.BalanceConfig.Algorithm;
import io.tollgate.config.BalanceConfig.OnAllDown;
import io.tollgate.config.HostPort;
import io.tollgate.connection.CloseReason;
import io.tollgate.health.PassiveSignals;
import io.tollgate.health.ServerKey;
import io.tollgate.health.ServerState;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Distribution of every balancing algorithm with fixed seeds, plus slow start (injected clock),
 * max-connections, drain and on-all-down.
 */
class BalancingTest {
  private final AtomicLong now = new AtomicLong(1_000_000_000L);

  /** The leases of the connections {@link #holdConnections} keeps open. */
  private final List<Lease> held = new ArrayList<>();

  private Backend server(int port, int weight, int maxConnections) {
    InetSocketAddress a = new InetSocketAddress("127.0.0.1", port);
    return new Backend(
        HostPort.parse("127.0.0.1:" + port),
        a,
        weight,
        maxConnections,
        new ServerState(new ServerKey("p", a), "127.0.0.1:" + port, true, now::get));
  }

  private Backend server(int port, int weight) {
    return server(port, weight, 0);
  }

  private Pool pool(List<Backend> servers, Algorithm algorithm) {
    return pool(servers, new BalanceConfig(algorithm, Duration.ZERO, OnAllDown.REJECT));
  }

  private Pool pool(List<Backend> servers, BalanceConfig balance) {
    Random seeded = new Random(42);
    return new Pool(
        "p",
        servers,
        3,
        balance,
        BackendProxyProtocol.OFF,
        PassiveSignals.NONE,
        now::get,
        () -> seeded);
  }

  /** Opens {@code n} connections that stay open; returns how many each server got. */
  private Map<Integer, Integer> holdConnections(Pool pool, int n) {
    Map<Integer, Integer> counts = new HashMap<>();
    for (int i = 0; i < n; i++) {
      Backend b = pool.select(null, null).order().get(0);
      Lease lease = pool.reserve(b);
      assertThat(lease).isNotNull();
      held.add(lease);
      counts.merge(b.address().getPort(), 1, Integer::sum);
    }
    return counts;
  }

  /** Opens and at once closes {@code n} connections; returns how many each server got. */
  private static Map<Integer, Integer> shortConnections(Pool pool, int n) {
    Map<Integer, Integer> counts = new HashMap<>();
    for (int i = 0; i < n; i++) {
      Backend b = pool.select(null, null).order().get(0);
      Lease lease = pool.reserve(b);
      assertThat(lease).isNotNull();
      counts.merge(b.address().getPort(), 1, Integer::sum);
      lease.cancelled();
    }
    return counts;
  }

  private static InetSocketAddress client(int i) {
    return new InetSocketAddress(
        "10." + (i >> 16 & 255) + "." + (i >> 8 & 255) + "." + (i & 255), 40000 + i % 1000);
  }

  // ---- round-robin

  @Test
  void roundRobinSkipsServersThatAreDownAndKeepsTheWeightsOfTheOthers() {
    Backend a = server(1, 1);
    Backend b = server(2, 2);
    Backend c = server(3, 3);
    Pool pool = pool(List.of(a, b, c), Algorithm.ROUND_ROBIN);
    c.state().markDown("test");

    Map<Integer, Integer> counts = shortConnections(pool, 300);

    assertThat(counts).containsOnlyKeys(1, 2).containsEntry(1, 100).containsEntry(2, 200);
  }

  // ---- least-conn

  @Test
  void leastConnSendsNothingToAServerHoldingLongConnections() {
    Pool pool = pool(List.of(server(1, 1), server(2, 1), server(3, 1)), Algorithm.LEAST_CONN);
    Backend busy = pool.servers().get(0);
    for (int i = 0; i < 10; i++) {
      assertThat(pool.reserve(busy)).isNotNull();
    }

    Map<Integer, Integer> counts = shortConnections(pool, 600);

    assertThat(counts).doesNotContainKey(1);
    assertThat(counts.get(2)).isCloseTo(300, within(30));
    assertThat(counts.get(3)).isCloseTo(300, within(30));
  }

  @Test
  void leastConnKeepsOpenConnectionsInProportionToWeight() {
    Pool pool = pool(List.of(server(1, 1), server(2, 2), server(3, 3)), Algorithm.LEAST_CONN);

    Map<Integer, Integer> open = holdConnections(pool, 600);

    assertThat(open.get(1)).isCloseTo(100, within(2));
    assertThat(open.get(2)).isCloseTo(200, within(2));
    assertThat(open.get(3)).isCloseTo(300, within(2));
  }

  // ---- random-two

  @Test
  void randomTwoFollowsWeightsWhenConnectionsAreShort() {
    Pool pool = pool(List.of(server(1, 1), server(2, 2), server(3, 3)), Algorithm.RANDOM_TWO);

    Map<Integer, Integer> counts = shortConnections(pool, 6000);

    assertThat(counts.get(1)).isCloseTo(1000, within(100));
    assertThat(counts.get(2)).isCloseTo(2000, within(200));
    assertThat(counts.get(3)).isCloseTo(3000, within(300));
  }

  @Test
  void randomTwoAvoidsAServerHoldingLongConnections() {
    Pool pool =
        pool(List.of(server(1, 1), server(2, 1), server(3, 1), server(4, 1)), Algorithm.RANDOM_TWO);
    Backend busy = pool.servers().get(0);
    for (int i = 0; i < 10; i++) {
      pool.reserve(busy);
    }

    Map<Integer, Integer> counts = shortConnections(pool, 3000);

    // The busy server loses every draw it is in: two distinct servers are always compared.
    assertThat(counts).doesNotContainKey(1);
    assertThat(counts.values()).allSatisfy(n -> assertThat(n).isBetween(900, 1100));
  }

  @Test
  void randomTwoBalancesOpenConnectionsByWeight() {
    Pool pool = pool(List.of(server(1, 1), server(2, 1), server(3, 2)), Algorithm.RANDOM_TWO);

    Map<Integer, Integer> open = holdConnections(pool, 4000);

    assertThat(open.get(1)).isCloseTo(1000, within(60));
    assertThat(open.get(2)).isCloseTo(1000, within(60));
    assertThat(open.get(3)).isCloseTo(2000, within(100));
  }

  // ---- source-hash and sni-hash

  @Test
  void sourceHashRemapsAboutOneTenthOfClientsWhenOneOfTenServersLeaves() {
    List<Backend> ten = new ArrayList<>();
    for (int i = 1; i <= 10; i++) {
      ten.add(server(i, 1));
    }
    Pool before = pool(ten, Algorithm.SOURCE_HASH);
    Pool after = pool(ten.subList(1, 10), Algorithm.SOURCE_HASH); // server 1 removed

    int clients = 20_000;
    int moved = 0;
    int movedOffOthers = 0;
    Map<Integer, Integer> share = new HashMap<>();
    for (int i = 0; i < clients; i++) {
      int was = before.select(client(i), null).order().get(0).address().getPort();
      int is = after.select(client(i), null).order().get(0).address().getPort();
      share.merge(was, 1, Integer::sum);
      if (was != is) {
        moved++;
        movedOffOthers += was != 1 ? 1 : 0;
      }
    }

    assertThat((double) moved / clients).isCloseTo(0.10, within(0.03));
    assertThat(movedOffOthers).as("clients of the remaining servers stay put").isZero();
    assertThat(share.values()).allSatisfy(n -> assertThat(n).isBetween(1400, 2600));
  }

  @Test
  void sourceHashMovesOnlyTheClientsOfAServerThatGoesDownAndIgnoresThePort() {
    List<Backend> ten = new ArrayList<>();
    for (int i = 1; i <= 10; i++) {
      ten.add(server(i, 1));
    }
    Pool pool = pool(ten, Algorithm.SOURCE_HASH);
    int[] was = new int[5000];
    for (int i = 0; i < was.length; i++) {
      was[i] = pool.select(client(i), null).order().get(0).address().getPort();
    }
    ten.get(4).state().markDown("test"); // port 5

    for (int i = 0; i < was.length; i++) {
      int is = pool.select(client(i), null).order().get(0).address().getPort();
      if (was[i] != 5) {
        assertThat(is).isEqualTo(was[i]);
      } else {
        assertThat(is).isNotEqualTo(5);
      }
      InetSocketAddress otherPort = new InetSocketAddress(client(i).getAddress(), 1);
      assertThat(pool.select(otherPort, null).order().get(0).address().getPort()).isEqualTo(is);
    }
    assertThat(pool.select(client(1), null).order()).hasSize(3).doesNotHaveDuplicates();
  }

  @Test
  void sniHashSendsOneNameToOneServerWhateverTheClient() {
    List<Backend> five = new ArrayList<>();
    for (int i = 1; i <= 5; i++) {
      five.add(server(i, 1));
    }
    Pool pool = pool(five, Algorithm.SNI_HASH);
    Map<Integer, Integer> share = new HashMap<>();
    for (int n = 0; n < 2000; n++) {
      String name = "tenant" + n + ".example.com";
      int first = pool.select(client(0), name).order().get(0).address().getPort();
      share.merge(first, 1, Integer::sum);
      assertThat(pool.select(client(n + 1), name.toUpperCase()).order().get(0).address().getPort())
          .isEqualTo(first);
    }
    assertThat(share.values()).allSatisfy(n -> assertThat(n).isBetween(250, 550));
    // No SNI: the client's address decides.
    assertThat(pool.select(client(7), null).order().get(0))
        .isEqualTo(pool.select(client(7), null).order().get(0));
  }

  // ---- slow start

  @Test
  void slowStartRampsARecoveredServerUpLinearly() {
    Backend a = server(1, 1);
    Backend b = server(2, 1);
    Pool pool =
        pool(
            List.of(a, b),
            new BalanceConfig(Algorithm.ROUND_ROBIN, Duration.ofSeconds(10), OnAllDown.REJECT));
    b.state().markDown("test");
    b.state().markUp("test", true); // ramp starts now

    now.addAndGet(Duration.ofSeconds(1).toNanos()); // 10%: 0.1 / 1.1 of the picks
    assertThat(shortConnections(pool, 1100).get(2)).isCloseTo(100, within(5));
    now.addAndGet(Duration.ofSeconds(4).toNanos()); // 50%: 0.5 / 1.5
    assertThat(shortConnections(pool, 1500).get(2)).isCloseTo(500, within(5));
    now.addAndGet(Duration.ofSeconds(5).toNanos()); // done: full weight
    assertThat(shortConnections(pool, 1000).get(2)).isCloseTo(500, within(2));
  }

  @Test
  void slowStartDoesNotApplyToServersThatWereUpFromTheStart() {
    Pool pool =
        pool(
            List.of(server(1, 1), server(2, 1)),
            new BalanceConfig(Algorithm.LEAST_CONN, Duration.ofSeconds(10), OnAllDown.REJECT));
    assertThat(holdConnections(pool, 100)).containsEntry(1, 50).containsEntry(2, 50);
  }

  // ---- max-connections

  @Test
  void fullServersAreSkippedAndAFullPoolRefusesWithPoolFull() {
    Backend a = server(1, 1, 2);
    Backend b = server(2, 1, 1);
    Pool pool = pool(List.of(a, b), Algorithm.ROUND_ROBIN);

    assertThat(holdConnections(pool, 3)).containsEntry(1, 2).containsEntry(2, 1);
    assertThat(pool.reserve(a)).isNull();

    Pool.Selection refused = pool.select(null, null);
    assertThat(refused.refusal()).isEqualTo(CloseReason.POOL_FULL);
    assertThat(refused.order()).isEmpty();

    held.stream()
        .filter(l -> l.server() == a)
        .findFirst()
        .orElseThrow()
        .release(); // one of a's connections closes
    assertThat(pool.select(null, null).order()).containsExactly(a);
  }

  // ---- drain

  @Test
  void aDrainingServerTakesNoNewConnectionsAndKeepsItsOpenOnes() {
    Backend a = server(1, 1);
    Backend b = server(2, 1);
    Pool pool = pool(List.of(a, b), Algorithm.ROUND_ROBIN);
    assertThat(pool.reserve(a)).isNotNull();

    assertThat(pool.drain(a.address(), true)).isTrue();
    assertThat(shortConnections(pool, 50)).containsOnlyKeys(2);
    assertThat(a.state().activeConnections()).isEqualTo(1);

    pool.drain(b.address(), true);
    assertThat(pool.select(null, null).refusal()).isEqualTo(CloseReason.NO_HEALTHY_BACKEND);

    pool.drain(a.address(), false);
    pool.drain(b.address(), false);
    assertThat(shortConnections(pool, 50)).containsOnlyKeys(1, 2);
    assertThat(pool.drain(new InetSocketAddress("127.0.0.1", 99), true)).isFalse();
  }

  // ---- on-all-down

  @Test
  void allDownRejectsWithNoHealthyBackendOrTriesAllWhenAsked() {
    Backend a = server(1, 1);
    Backend b = server(2, 1);
    a.state().markDown("test");
    b.state().markDown("test");

    Pool.Selection rejected = pool(List.of(a, b), Algorithm.ROUND_ROBIN).select(null, null);
    assertThat(rejected.refusal()).isEqualTo(CloseReason.NO_HEALTHY_BACKEND);
    assertThat(rejected.detail()).contains("all 2 server(s) of pool p are down");

    Pool tryAll =
        pool(
            List.of(a, b),
            new BalanceConfig(Algorithm.LEAST_CONN, Duration.ZERO, OnAllDown.TRY_ALL));
    assertThat(tryAll.select(null, null).order()).containsExactlyInAnyOrder(a, b);
  }
}
