package io.tollgate.snapshot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.tollgate.config.BackendProxyProtocol;
import io.tollgate.config.ConfigLoader;
import io.tollgate.health.HealthChecker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SnapshotTest {

  @Test
  void healthTargetsAreTheOnesBuildGaveTheCheckerProxyProtocolIncluded() throws Exception {
    Snapshot snapshot =
        Snapshot.build(
            ConfigLoader.parse(
                """
        tollgate {
          listeners = [ { name = main, address = "127.0.0.1:0" } ]
          routes = [ { hosts = ["a.test"], pool = p } ]
          pools {
            p { servers = ["127.0.0.1:9", "127.0.0.1:10"], proxy-protocol = v2 }
            q { servers = ["127.0.0.1:11"] }
          }
        }
        """,
                "snapshot.conf"));

    // The checker probes with these: a probe that lost its PROXY header would be refused by a
    // server that requires one.
    assertThat(snapshot.healthTargets())
        .extracting(t -> t.key().address().getPort(), HealthChecker.Target::proxyProtocol)
        .containsExactlyInAnyOrder(
            tuple(9, BackendProxyProtocol.Version.V2),
            tuple(10, BackendProxyProtocol.Version.V2),
            tuple(11, BackendProxyProtocol.Version.OFF));
  }

  @Test
  void anAdminTokenFileOthersCanReadIsAWarningNamingTheFile(@TempDir Path dir) throws Exception {
    Path token = Files.writeString(dir.resolve("admin.token"), "s3cret\n");
    String hocon =
        """
        tollgate {
          listeners = [ { name = main, address = "127.0.0.1:0" } ]
          admin { address = "127.0.0.1:0", token-file = "%s" }
          routes = [ { hosts = ["a.test"], pool = p } ]
          pools { p { servers = ["127.0.0.1:9"] } }
        }
        """
            .formatted(token);
    Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-r-----"));
    assertThat(Snapshot.build(ConfigLoader.parse(hocon, "snapshot.conf")).warnings())
        .singleElement()
        .satisfies(
            w -> {
              assertThat(w.origin()).isEqualTo(token.toString());
              assertThat(w.path()).isEqualTo("tollgate.admin.token-file");
              assertThat(w.message()).contains("readable by its group").contains("chmod 600");
            });
    Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-------"));
    assertThat(Snapshot.build(ConfigLoader.parse(hocon, "snapshot.conf")).warnings()).isEmpty();
  }
}
