package io.tollgate.route;

import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.config.AccessRules;
import io.tollgate.config.Cidr;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** allow-from / deny-from as compiled masks agree with {@link Cidr#contains}. */
class SourceFilterTest {
  private static List<Cidr> nets(String... texts) {
    return Stream.of(texts).map(t -> Cidr.parse(t).orElseThrow()).toList();
  }

  private static InetSocketAddress at(String ip) throws Exception {
    return new InetSocketAddress(InetAddress.getByName(ip), 1234);
  }

  @Test
  void noRulesCompileToNothing() {
    assertThat(SourceFilter.of(AccessRules.NONE)).isNull();
  }

  @Test
  void inet4HashCodeIsTheAddressAsABigEndianInt() throws Exception {
    // SourceFilter relies on this to check IPv4 clients without copying their address.
    for (String ip : List.of("0.0.0.0", "10.1.2.3", "192.0.2.255", "255.255.255.255")) {
      InetAddress a = InetAddress.getByName(ip);
      assertThat(a.hashCode()).isEqualTo(ByteBuffer.wrap(a.getAddress()).getInt());
    }
  }

  @Test
  void denyWinsAndAnAllowListAdmitsOnlyItsNetworks() throws Exception {
    SourceFilter f =
        SourceFilter.of(
            new AccessRules(
                nets("10.0.0.0/8", "2001:db8::/32"), nets("10.9.0.0/16", "2001:db8::1")));
    assertThat(f.admits(at("10.1.2.3"))).isTrue();
    assertThat(f.admits(at("10.9.2.3"))).isFalse();
    assertThat(f.admits(at("11.0.0.1"))).isFalse();
    assertThat(f.admits(at("2001:db8::2"))).isTrue();
    assertThat(f.admits(at("2001:db8::1"))).isFalse();
    assertThat(f.admits(at("2001:db9::2"))).isFalse();
  }

  @Test
  void onlyDenyAdmitsEveryoneElse() throws Exception {
    SourceFilter f = SourceFilter.of(new AccessRules(List.of(), nets("192.0.2.0/24")));
    assertThat(f.admits(at("192.0.2.77"))).isFalse();
    assertThat(f.admits(at("192.0.3.1"))).isTrue();
    assertThat(f.admits(at("::1"))).isTrue();
  }

  @Test
  void mappedAddressesMeetIpv4NetworksBothWays() throws Exception {
    SourceFilter v4 = SourceFilter.of(new AccessRules(nets("10.0.0.0/8"), List.of()));
    byte[] mapped = new byte[16];
    mapped[10] = (byte) 0xFF;
    mapped[11] = (byte) 0xFF;
    mapped[12] = 10;
    mapped[15] = 7;
    InetSocketAddress mappedClient =
        new InetSocketAddress(Inet6Address.getByAddress(null, mapped, -1), 1);
    assertThat(v4.admits(mappedClient)).isTrue();

    SourceFilter v6 = SourceFilter.of(new AccessRules(nets("::ffff:10.0.0.0/104"), List.of()));
    assertThat(v6.admits(at("10.2.3.4"))).isTrue();
    assertThat(v6.admits(at("11.2.3.4"))).isFalse();
    SourceFilter all = SourceFilter.of(new AccessRules(nets("::/0"), List.of()));
    assertThat(all.admits(at("198.51.100.1"))).isTrue();
  }

  @Test
  void agreesWithCidrContainsAtPrefixEdges() throws Exception {
    for (String net : List.of("10.0.0.0/7", "10.128.0.0/9", "0.0.0.0/0", "2001:db8:8000::/33")) {
      Cidr cidr = Cidr.parse(net).orElseThrow();
      SourceFilter f = SourceFilter.of(new AccessRules(List.of(cidr), List.of()));
      for (String ip :
          List.of(
              "10.0.0.1",
              "11.255.255.255",
              "12.0.0.0",
              "10.127.255.255",
              "10.128.0.0",
              "2001:db8:8000::1",
              "2001:db8:7fff::1",
              "2001:db8:ffff::1")) {
        InetAddress a = InetAddress.getByName(ip);
        assertThat(f.admits(new InetSocketAddress(a, 1)))
            .as("%s in %s", ip, net)
            .isEqualTo(cidr.contains(a));
      }
    }
  }
}
