package io.tollgate.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code pools.*.resolve-every}, {@code pools.*.srv} and {@code tollgate.dns}. */
class DnsPoolConfigTest {
  @TempDir Path dir;

  private static final String LISTENER =
      "tollgate.listeners = [ { name = main, address = \"127.0.0.1:8443\" } ]\n";

  private TollgateConfig load(String text) throws ConfigException {
    return ConfigLoader.load(new ConfigFiles(dir).write("tollgate.conf", LISTENER + text));
  }

  @Test
  void defaultsAreThirtySecondsNoSrvAndTheSystemResolver() throws Exception {
    TollgateConfig c = load("tollgate.pools.web { servers = [\"web.internal:443\"] }");
    assertThat(c.pool("web").dns()).isEqualTo(PoolDnsConfig.DEFAULTS);
    assertThat(c.dns()).isEqualTo(DnsConfig.SYSTEM);
  }

  @Test
  void readsResolveEverySrvAndTheResolver() throws Exception {
    TollgateConfig c =
        load(
            "tollgate.dns { servers = [\"127.0.0.1:5353\", \"[::1]:53\"], timeout = 500ms }\n"
                + "tollgate.pools.web { srv = \"_https._tcp.Tenant.Example.\","
                + " resolve-every = 5s }");
    PoolConfig web = c.pool("web");
    assertThat(web.servers()).isEmpty();
    assertThat(web.dns().resolveEvery()).isEqualTo(Duration.ofSeconds(5));
    assertThat(web.dns().srv()).isEqualTo(Optional.of("_https._tcp.tenant.example"));
    assertThat(c.dns().servers())
        .isEqualTo(List.of(new HostPort("127.0.0.1", 5353), new HostPort("::1", 53)));
    assertThat(c.dns().timeout()).isEqualTo(Duration.ofMillis(500));
  }

  @Test
  void refusesBadValuesNamingFileLineAndKey() {
    assertThatThrownBy(
            () -> load("tollgate.pools.web {\n  servers = [\"a:1\"]\n  resolve-every = 0s\n}"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("tollgate.conf:4")
        .hasMessageContaining("tollgate.pools.web.resolve-every");
    assertThatThrownBy(() -> load("tollgate.pools.web { srv = \"not a name\" }"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("tollgate.pools.web.srv")
        .hasMessageContaining("is not a DNS name");
    assertThatThrownBy(() -> load("tollgate.pools.web { resolve-every = 5s }"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("tollgate.pools.web.servers");
    assertThatThrownBy(() -> load("tollgate.dns { servers = [\"nope\"] }"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("tollgate.dns.servers");
    assertThatThrownBy(() -> load("tollgate.dns { timout = 1s }"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("did you mean \"timeout\"");
  }
}
