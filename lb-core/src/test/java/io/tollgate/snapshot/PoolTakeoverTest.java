package io.tollgate.snapshot;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.socket.nio.NioSocketChannel;
import io.tollgate.config.ConfigLoader;
import io.tollgate.config.TollgateConfig;
import io.tollgate.health.HealthChecker;
import io.tollgate.pool.Backend;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A reload takes the pool of an untouched tenant over whole (the same {@code Pool}, the same health
 * targets, so its balancing position and server states stay), builds a changed tenant's pool again,
 * and never hands a pool changed at run time (admin API) to the next config: a reload returns to
 * the file.
 */
class PoolTakeoverTest {
  @TempDir Path dir;
  private final HealthChecker health = new HealthChecker();

  @AfterEach
  void close() {
    health.close();
  }

  private static String tenant(String host, String pool, int... ports) {
    StringBuilder servers = new StringBuilder();
    for (int port : ports) {
      servers
          .append(servers.length() == 0 ? "" : ", ")
          .append("\"127.0.0.1:")
          .append(port)
          .append('"');
    }
    return "routes = [ { hosts = [\"%s\"], pool = %s } ]\npools { %s { servers = [%s] } }\n"
        .formatted(host, pool, pool, servers);
  }

  /** Writes a file stamped a minute ago, as one written well before the load that reads it. */
  private void settled(String name, String content) throws Exception {
    Path file = dir.resolve(name);
    Files.createDirectories(file.getParent());
    Files.writeString(file, content);
    Files.setLastModifiedTime(file, FileTime.from(Instant.now().minusSeconds(60)));
  }

  private TollgateConfig load() throws Exception {
    return ConfigLoader.load(dir.resolve("tollgate.conf"));
  }

  private Snapshot build(TollgateConfig config, Snapshot previous) throws Exception {
    Snapshot s = Snapshot.build(config, health, NioSocketChannel.class, previous);
    s.commitHealth();
    if (previous != null) {
      previous.retire();
    }
    return s;
  }

  private Snapshot twoTenants() throws Exception {
    settled(
        "tollgate.conf",
        """
        tollgate {
          listeners = [ { name = main, address = "127.0.0.1:0" } ]
          tenants-directory = tenants
        }
        """);
    settled("tenants/a.conf", tenant("a.test", "a", 9002, 9003));
    settled("tenants/b.conf", tenant("b.test", "b", 9004));
    return build(load(), null);
  }

  @Test
  void anUntouchedTenantsPoolIsTakenOverAndTheChangedTenantsPoolIsBuiltAgain() throws Exception {
    Snapshot first = twoTenants();
    settled("tenants/b.conf", tenant("b.test", "b", 9005));
    Snapshot second = build(load(), first);

    assertThat(second.pools().get("a")).isSameAs(first.pools().get("a"));
    assertThat(second.poolServers("a").builtTargets())
        .hasSize(2)
        .isSameAs(first.poolServers("a").builtTargets());
    assertThat(second.pools().get("b")).isNotSameAs(first.pools().get("b"));
    assertThat(ports(second, "b")).containsExactly(9005);
    // The checker follows the new target of b and no longer the old one; a's are untouched.
    assertThat(second.healthTargets())
        .extracting(t -> t.key().address().getPort())
        .containsExactlyInAnyOrder(9002, 9003, 9005);
    assertThat(
            health.state(
                first.healthTargets().stream()
                    .filter(t -> t.key().pool().equals("b"))
                    .findFirst()
                    .orElseThrow()
                    .key()))
        .isEmpty();
    assertThat(health.state(second.pools().get("a").servers().get(0).state().key()))
        .containsSame(first.pools().get("a").servers().get(0).state());
  }

  @Test
  void aPoolTheAdminApiChangedIsBuiltFromTheFileAgainAtTheNextReload() throws Exception {
    Snapshot first = twoTenants();
    first.poolServers("a").add("127.0.0.1:9009", 1, false);
    assertThat(ports(first, "a")).containsExactly(9002, 9003, 9009);

    Snapshot second = build(load(), first);

    assertThat(ports(second, "a")).containsExactly(9002, 9003);
    assertThat(second.pools().get("a")).isNotSameAs(first.pools().get("a"));
    // b was not touched by anyone: still taken over.
    assertThat(second.pools().get("b")).isSameAs(first.pools().get("b"));

    // And the pool built again is taken over by the reload after, like any other.
    Snapshot third = build(load(), second);
    assertThat(third.pools().get("a")).isSameAs(second.pools().get("a"));
  }

  @Test
  void aTakenOverPoolAcceptsAdminChangesAndItsPredecessorRefusesThem() throws Exception {
    Snapshot first = twoTenants();
    Snapshot second = build(load(), first);
    assertThat(second.pools().get("b")).isSameAs(first.pools().get("b"));

    second.poolServers("b").add("127.0.0.1:9010", 1, false);
    assertThat(ports(second, "b")).containsExactly(9004, 9010);
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> first.poolServers("b").add("127.0.0.1:9011", 1, false))
        .isInstanceOf(PoolServers.Refused.class);
  }

  private static List<Integer> ports(Snapshot s, String pool) {
    return s.pools().get(pool).servers().stream()
        .map(Backend::address)
        .map(a -> a.getPort())
        .toList();
  }
}
