package io.tollgate.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.config.ConfigLoader;
import io.tollgate.config.TollgateConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a poll of {@code watch = true} compares: stamps from the file watch, which must still see an
 * in-place rewrite, a file added to the tenants directory and a Kubernetes-style symlink swap.
 */
class ConfigWatcherTest {
  @TempDir Path dir;

  private static String tenant(String host, int port) {
    return "routes = [ { hosts = [\"%s\"], pool = %s } ]\npools { %s { servers = [\"127.0.0.1:%d\"] } }\n"
        .formatted(host, host.replace('.', '_'), host.replace('.', '_'), port);
  }

  private ConfigWatcher watcher() throws Exception {
    Path main =
        Files.writeString(
            dir.resolve("tollgate.conf"),
            """
            tollgate {
              listeners = [ { name = main, address = "127.0.0.1:0" } ]
              tenants-directory = tenants
            }
            """);
    Files.createDirectories(dir.resolve("tenants"));
    Files.writeString(dir.resolve("tenants/a.conf"), tenant("a.test", 9001));
    TollgateConfig config = ConfigLoader.load(main);
    return new ConfigWatcher(main, () -> config, () -> {}, Duration.ofSeconds(1));
  }

  @Test
  void aPollSeesAnInPlaceRewriteANewTenantAndASymlinkSwap() throws Exception {
    ConfigWatcher watcher = watcher();
    Map<Path, Object> first = watcher.fingerprint();
    assertThat(first).containsKey(dir.resolve("tenants/a.conf").toAbsolutePath().normalize());
    assertThat(watcher.fingerprint()).isEqualTo(first);

    // In place (no rename: same inode), as an editor that truncates and writes does.
    Files.writeString(dir.resolve("tenants/a.conf"), tenant("a.test", 9002) + "# edited\n");
    Map<Path, Object> second = watcher.fingerprint();
    assertThat(second).isNotEqualTo(first);

    Files.writeString(dir.resolve("tenants/b.conf"), tenant("b.test", 9003));
    Map<Path, Object> third = watcher.fingerprint();
    assertThat(third).containsKey(dir.resolve("tenants/b.conf").toAbsolutePath().normalize());

    // b.conf becomes a link into a ..data directory, which is then swapped, as Kubernetes does.
    Path v1 = Files.createDirectory(dir.resolve("tenants/..v1"));
    Files.writeString(v1.resolve("b.conf"), tenant("b.test", 9004));
    Files.createSymbolicLink(dir.resolve("tenants/..data"), v1.getFileName());
    Files.delete(dir.resolve("tenants/b.conf"));
    Files.createSymbolicLink(dir.resolve("tenants/b.conf"), Path.of("..data/b.conf"));
    Map<Path, Object> linked = watcher.fingerprint();
    assertThat(linked).isNotEqualTo(third);

    Path v2 = Files.createDirectory(dir.resolve("tenants/..v2"));
    Files.writeString(v2.resolve("b.conf"), tenant("b.test", 9005) + "# longer\n");
    Path swap = Files.createSymbolicLink(dir.resolve("tenants/..data_tmp"), v2.getFileName());
    Files.move(swap, dir.resolve("tenants/..data"), StandardCopyOption.ATOMIC_MOVE);
    assertThat(watcher.fingerprint()).isNotEqualTo(linked);
  }
}
