package io.tollgate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.tollgate.config.BackendProxyProtocol;
import io.tollgate.config.ConfigLoader;
import io.tollgate.health.HealthChecker;
import org.junit.jupiter.api.Test;

class SnapshotTest {

  @Test
  void healthTargetsAreTheOnesBuildGaveTheCheckerProxyProtocolIncluded() throws Exception {
    Snapshot snapshot = Snapshot.build(ConfigLoader.parse("""
        tollgate {
          listeners = [ { name = main, address = "127.0.0.1:0" } ]
          routes = [ { hosts = ["a.test"], pool = p } ]
          pools {
            p { servers = ["127.0.0.1:9", "127.0.0.1:10"], proxy-protocol = v2 }
            q { servers = ["127.0.0.1:11"] }
          }
        }
        """, "snapshot.conf"));

    // The checker probes with these: a probe that lost its PROXY header would be refused by a
    // server that requires one.
    assertThat(snapshot.healthTargets())
        .extracting(t -> t.key().address().getPort(), HealthChecker.Target::proxyProtocol)
        .containsExactlyInAnyOrder(
            tuple(9, BackendProxyProtocol.Version.V2),
            tuple(10, BackendProxyProtocol.Version.V2),
            tuple(11, BackendProxyProtocol.Version.OFF));
  }
}
