package io.tollgate.config.bind;

import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.config.BackendProxyProtocol;
import io.tollgate.config.BackendProxyProtocol.Version;
import io.tollgate.config.Cidr;
import io.tollgate.config.ConfigException;
import io.tollgate.config.ConfigFiles;
import io.tollgate.config.ConfigLoader;
import io.tollgate.config.TollgateConfig;
import io.tollgate.config.UpstreamProxyProtocol;
import io.tollgate.config.UpstreamProxyProtocol.Mode;
import java.net.InetAddress;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Pool {@code proxy-protocol}/{@code proxy-protocol-tlvs} and listener {@code proxy-protocol}. */
class ProxyProtocolConfigTest {
  @TempDir Path dir;

  private TollgateConfig load(String text) throws ConfigException {
    return ConfigLoader.load(new ConfigFiles(dir).write("tollgate.conf", text));
  }

  private ConfigFiles.Loaded broken(String text) {
    return new ConfigFiles(dir).loadBroken(text);
  }

  private static final String LISTENER =
      "tollgate.listeners = [ { name = main, address = \"127.0.0.1:8443\" } ]\n";

  @Test
  void offByDefaultOnPoolsAndListenersWithTheDocumentedTlvDefaults() throws Exception {
    TollgateConfig c = load(LISTENER + "tollgate.pools.p.servers = [\"10.0.0.1:443\"]\n");

    BackendProxyProtocol p = c.pool("p").proxyProtocol();
    assertThat(p.version()).isEqualTo(Version.OFF);
    assertThat(p.enabled()).isFalse();
    assertThat(p.authority()).isTrue();
    assertThat(p.alpn()).isTrue();
    assertThat(p.uniqueId()).isTrue();
    assertThat(p.ssl()).isTrue();
    assertThat(p.crc32c()).isFalse();
    assertThat(c.listeners().get(0).proxyProtocol()).isEqualTo(UpstreamProxyProtocol.OFF);
  }

  @Test
  void readsPoolVersionAndTlvSwitches() throws Exception {
    TollgateConfig c =
        load(
            LISTENER
                + """
        tollgate.pools {
          a { servers = ["10.0.0.1:443"], proxy-protocol = v1 }
          b { servers = ["10.0.0.2:443"], proxy-protocol = V2,
              proxy-protocol-tlvs { authority = false, alpn = false, unique-id = false,
                                    ssl = false, crc32c = true } }
        }
        """);

    assertThat(c.pool("a").proxyProtocol().version()).isEqualTo(Version.V1);
    assertThat(c.pool("b").proxyProtocol())
        .isEqualTo(new BackendProxyProtocol(Version.V2, false, false, false, false, true));
  }

  @Test
  void readsListenerModeAndTrustedNetworks() throws Exception {
    TollgateConfig c =
        load(
            """
        tollgate.listeners = [
          { name = a, address = "127.0.0.1:8443",
            proxy-protocol { mode = required, trusted = ["10.0.0.0/8", "::1/128", "192.0.2.7"] } }
          { name = b, address = "127.0.0.1:8444", proxy-protocol { mode = optional,
            trusted = ["0.0.0.0/0"] } }
        ]
        """);

    UpstreamProxyProtocol a = c.listeners().get(0).proxyProtocol();
    assertThat(a.mode()).isEqualTo(Mode.REQUIRED);
    assertThat(a.trusts(InetAddress.getByName("10.200.1.1"))).isTrue();
    assertThat(a.trusts(InetAddress.getByName("11.0.0.1"))).isFalse();
    assertThat(a.trusts(InetAddress.getByName("::1"))).isTrue();
    assertThat(a.trusts(InetAddress.getByName("::2"))).isFalse();
    assertThat(a.trusts(InetAddress.getByName("192.0.2.7"))).isTrue();
    assertThat(a.trusts(InetAddress.getByName("192.0.2.8"))).isFalse();
    assertThat(c.listeners().get(1).proxyProtocol().mode()).isEqualTo(Mode.OPTIONAL);
    assertThat(c.listeners().get(1).proxyProtocol().trusts(InetAddress.getByName("127.0.0.1")))
        .isTrue();
  }

  @Test
  void cidrMatchesIpv4MappedAddressesAndMasksHostBits() throws Exception {
    Cidr net = Cidr.parse("10.1.2.3/16").orElseThrow();
    assertThat(
            net.contains(
                InetAddress.getByAddress(
                    new byte[] {
                      0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, 10, 1, 9, 9
                    })))
        .isTrue();
    assertThat(net.contains(InetAddress.getByName("10.2.0.1"))).isFalse();
    assertThat(Cidr.parse("example.com")).isEmpty();
    assertThat(Cidr.parse("10.0.0.0/33")).isEmpty();
    assertThat(Cidr.parse("::/129")).isEmpty();
    assertThat(Cidr.parse("::/0").orElseThrow().contains(InetAddress.getByName("2001:db8::1")))
        .isTrue();
  }

  @Test
  void reportsBadValuesWithLineAndPath() {
    String text =
        """
        tollgate.listeners = [
          { name = a, address = "127.0.0.1:8443",
            proxy-protocol { mode = requried, trusted = ["10.0.0.0/8", "proxy.example"] } }
          { name = b, address = "127.0.0.1:8444",
            proxy-protocol { mode = required } }
        ]
        tollgate.pools.p { servers = ["10.0.0.1:443"], proxy-protocol = v3,
          proxy-protocol-tlvs { authorty = true, crc32c = maybe } }
        """;
    var loaded = broken(text);

    assertThat(loaded.errorAt("requried", "tollgate.listeners[0].proxy-protocol.mode").message())
        .contains("\"requried\" is not a valid PROXY protocol mode")
        .contains("did you mean \"required\"");
    assertThat(
            loaded.errorAt("requried", "tollgate.listeners[0].proxy-protocol.trusted[1]").message())
        .contains("\"proxy.example\" is not a network");
    assertThat(
            loaded
                .errorAt("mode = required }", "tollgate.listeners[1].proxy-protocol.trusted")
                .message())
        .contains("missing required key \"trusted\"");
    assertThat(loaded.errorAt("v3", "tollgate.pools.p.proxy-protocol").message())
        .contains("expected one of: off, v1, v2");
    assertThat(
            loaded.errorAt("authorty", "tollgate.pools.p.proxy-protocol-tlvs.authorty").message())
        .contains("did you mean \"authority\"");
    assertThat(loaded.errorAt("authorty", "tollgate.pools.p.proxy-protocol-tlvs.crc32c").message())
        .contains("true or false");
  }
}
