package io.tollgate.pool;

import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.config.HostPort;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PoolTest {

  private static Backend backend(int port, int weight) {
    return new Backend(
        HostPort.parse("127.0.0.1:" + port), new InetSocketAddress("127.0.0.1", port), weight);
  }

  @Test
  void smoothWeightedRoundRobinSpreadsTheHeavyServer() {
    Pool pool = new Pool("p", List.of(backend(1, 5), backend(2, 1), backend(3, 1)), 1);
    List<Integer> picks = new ArrayList<>();
    for (int i = 0; i < 7; i++) {
      picks.add(pool.select(null, null).order().get(0).address().getPort());
    }
    // nginx's documented sequence for weights 5,1,1: a a b a c a a
    assertThat(picks).containsExactly(1, 1, 2, 1, 3, 1, 1);
  }

  @Test
  void picksFollowWeightsExactlyOverWholeCycles() {
    Pool pool = new Pool("p", List.of(backend(1, 1), backend(2, 2), backend(3, 3)), 1);
    Map<Integer, Integer> counts = new HashMap<>();
    for (int i = 0; i < 600; i++) {
      counts.merge(pool.select(null, null).order().get(0).address().getPort(), 1, Integer::sum);
    }
    assertThat(counts).containsEntry(1, 100).containsEntry(2, 200).containsEntry(3, 300);
  }

  @Test
  void attemptOrderTriesDistinctServersUpToTheLimit() {
    Pool pool =
        new Pool("p", List.of(backend(1, 1), backend(2, 1), backend(3, 1), backend(4, 1)), 3);
    List<Backend> order = pool.select(null, null).order();
    assertThat(order).hasSize(3).doesNotHaveDuplicates();
    Pool small = new Pool("s", List.of(backend(1, 1), backend(2, 1)), 5);
    assertThat(small.select(null, null).order()).hasSize(2).doesNotHaveDuplicates();
  }
}
