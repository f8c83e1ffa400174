package io.tollgate.limits;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.embedded.EmbeddedChannel;
import io.tollgate.config.ConfigLoader;
import io.tollgate.config.TollgateConfig;
import io.tollgate.connection.CloseReason;
import io.tollgate.connection.Connection;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The limit bookkeeping without sockets: counts taken and given back, token buckets, tables. */
class ConnectionLimitsTest {
  private final AtomicLong clock = new AtomicLong(1_000_000_000L);
  private final List<EmbeddedChannel> channels = new ArrayList<>();

  @AfterEach
  void closeAll() {
    channels.forEach(EmbeddedChannel::finishAndReleaseAll);
  }

  private ConnectionLimits limits(String hocon) throws Exception {
    TollgateConfig config =
        ConfigLoader.parse(
            """
        tollgate {
          listeners = [ { name = main, address = "127.0.0.1:0" } ]
          routes = [ { hosts = ["a.test"], pool = p, max-connections = 2 } ]
          pools.p.servers = ["127.0.0.1:9"]
        """
                + hocon
                + "\n}\n",
            "limits.conf");
    return new ConnectionLimits(config, clock::get);
  }

  private EmbeddedChannel channel() {
    EmbeddedChannel ch = new EmbeddedChannel();
    channels.add(ch);
    return ch;
  }

  private static Connection from(String ip) {
    return new Connection("1", "main", new InetSocketAddress(ip, 40000), 0);
  }

  @Test
  void ipv6AddressesInOneSlash64ShareOneSourceByDefault() throws Exception {
    ConnectionLimits limits = limits("limits.per-source { max-connections = 2 }");
    assertThat(limits.admit(channel(), from("2001:db8:1:2::1"))).isNull();
    assertThat(limits.admit(channel(), from("2001:db8:1:2:ffff:ffff:ffff:fffe"))).isNull();
    assertThat(limits.admit(channel(), from("2001:db8:1:2:abcd::7")))
        .isEqualTo(CloseReason.LIMIT_SOURCE);
    assertThat(limits.admit(channel(), from("2001:db8:1:3::1"))).as("next /64").isNull();
    assertThat(limits.trackedSources()).isEqualTo(2);
  }

  @Test
  void ipv6RateIsPerPrefixToo() throws Exception {
    ConnectionLimits limits = limits("limits.per-source { new-per-second = 2 }");
    assertThat(limits.admit(channel(), from("2001:db8::1"))).isNull();
    assertThat(limits.admit(channel(), from("2001:db8::2"))).isNull();
    assertThat(limits.admit(channel(), from("2001:db8::3")))
        .isEqualTo(CloseReason.LIMIT_SOURCE_RATE);
    assertThat(limits.rateSources()).isEqualTo(1);
  }

  @Test
  void ipv6PrefixIsConfigurableAnd128CountsEachAddress() throws Exception {
    ConnectionLimits per128 =
        limits("limits.per-source { max-connections = 1, ipv6-prefix = 128 }");
    assertThat(per128.admit(channel(), from("2001:db8::1"))).isNull();
    assertThat(per128.admit(channel(), from("2001:db8::2"))).isNull();
    assertThat(per128.admit(channel(), from("2001:db8::1"))).isEqualTo(CloseReason.LIMIT_SOURCE);

    ConnectionLimits per48 = limits("limits.per-source { max-connections = 1, ipv6-prefix = 48 }");
    assertThat(per48.admit(channel(), from("2001:db8:1:2::1"))).isNull();
    assertThat(per48.admit(channel(), from("2001:db8:1:ffff::1")))
        .isEqualTo(CloseReason.LIMIT_SOURCE);
    assertThat(per48.admit(channel(), from("2001:db8:2::1"))).isNull();
  }

  @Test
  void sourceKeyClearsTheHostBitsOfIpv6OnlyAndOddPrefixesCutInsideAByte() throws Exception {
    assertThat(
            ConnectionLimits.source(new InetSocketAddress("2001:db8:abcd:12ff::9", 1), 57)
                .getHostAddress())
        .isEqualTo("2001:db8:abcd:1280:0:0:0:0");
    assertThat(ConnectionLimits.source(new InetSocketAddress("2001:db8::9", 1), 1).getHostAddress())
        .isEqualTo("0:0:0:0:0:0:0:0");
    assertThat(ConnectionLimits.source(new InetSocketAddress("10.1.2.3", 1), 1).getHostAddress())
        .isEqualTo("10.1.2.3");
    assertThat(
            ConnectionLimits.source(new InetSocketAddress("::ffff:10.1.2.3", 1), 64)
                .getHostAddress())
        .as("IPv4-mapped is IPv4")
        .isEqualTo("10.1.2.3");
  }

  @Test
  void rateAllowsABurstOfOneSecondsWorthThenRefillsContinuously() throws Exception {
    ConnectionLimits limits = limits("limits.per-source { new-per-second = 3 }");
    for (int i = 0; i < 3; i++) {
      assertThat(limits.admit(channel(), from("10.0.0.1"))).isNull();
    }
    assertThat(limits.admit(channel(), from("10.0.0.1"))).isEqualTo(CloseReason.LIMIT_SOURCE_RATE);
    assertThat(limits.admit(channel(), from("10.0.0.2"))).isNull();

    clock.addAndGet(340_000_000L); // a third of a second: one token back
    assertThat(limits.admit(channel(), from("10.0.0.1"))).isNull();
    assertThat(limits.admit(channel(), from("10.0.0.1"))).isEqualTo(CloseReason.LIMIT_SOURCE_RATE);

    clock.addAndGet(60_000_000_000L); // a minute: full again, never more than the burst
    for (int i = 0; i < 3; i++) {
      assertThat(limits.admit(channel(), from("10.0.0.1"))).isNull();
    }
    assertThat(limits.admit(channel(), from("10.0.0.1"))).isEqualTo(CloseReason.LIMIT_SOURCE_RATE);
  }

  @Test
  void perSourceCountsExistOnlyWhileTheSourceHasOpenConnections() throws Exception {
    ConnectionLimits limits =
        limits("limits.per-source { max-connections = 2, " + "new-per-second = 0 }");
    EmbeddedChannel a = channel();
    EmbeddedChannel b = channel();
    assertThat(limits.admit(a, from("10.0.0.1"))).isNull();
    assertThat(limits.admit(b, from("10.0.0.1"))).isNull();
    assertThat(limits.admit(channel(), from("10.0.0.1"))).isEqualTo(CloseReason.LIMIT_SOURCE);
    assertThat(limits.trackedSources()).isEqualTo(1);

    a.close();
    assertThat(limits.admit(channel(), from("10.0.0.1"))).isNull();
    b.close();
    channels.forEach(EmbeddedChannel::close);
    assertThat(limits.trackedSources()).isZero();
    assertThat(limits.openConnections()).isZero();
  }

  @Test
  void aRefusedConnectionTakesNoSlotAtAnyLevel() throws Exception {
    ConnectionLimits limits =
        limits(
            """
        limits { max-connections = 1, per-source { max-connections = 5, new-per-second = 0 } }
        """);
    EmbeddedChannel first = channel();
    assertThat(limits.admit(first, from("10.0.0.1"))).isNull();
    for (int i = 0; i < 10; i++) {
      assertThat(limits.admit(channel(), from("10.0.0.1"))).isEqualTo(CloseReason.LIMIT_GLOBAL);
    }
    first.close();
    assertThat(limits.openConnections()).isZero();
    assertThat(limits.trackedSources()).isZero();
    assertThat(limits.admit(channel(), from("10.0.0.1"))).isNull();
  }

  @Test
  void routeLimitCountsUntilClose() throws Exception {
    ConnectionLimits limits = limits("");
    EmbeddedChannel one = channel();
    assertThat(limits.admitRoute(one, "a.test")).isNull();
    assertThat(limits.admitRoute(channel(), "a.test")).isNull();
    assertThat(limits.admitRoute(channel(), "a.test")).isEqualTo(CloseReason.LIMIT_ROUTE);
    assertThat(limits.admitRoute(channel(), "other.test")).isNull(); // no limit of its own
    one.close();
    assertThat(limits.admitRoute(channel(), "a.test")).isNull();
  }

  @Test
  void openFromAndOpenOnRouteReadTheCountsTheLimitsCheck() throws Exception {
    ConnectionLimits limits = limits("limits.per-source { max-connections = 2 }");
    EmbeddedChannel a = channel();
    assertThat(limits.admit(a, from("2001:db8:1:2::1"))).isNull();
    assertThat(limits.admit(channel(), from("2001:db8:1:2::2"))).isNull();
    assertThat(limits.admit(channel(), from("2001:db8:1:2::3")))
        .isEqualTo(CloseReason.LIMIT_SOURCE);
    assertThat(limits.openFrom(InetAddress.getByName("2001:db8:1:2::9")))
        .as("same /64")
        .isEqualTo(2);
    assertThat(limits.openFrom(InetAddress.getByName("10.0.0.1"))).isZero();
    assertThat(limits.admitRoute(a, "a.test")).isNull();
    assertThat(limits.openOnRoute("a.test")).isEqualTo(1);
    a.close();
    assertThat(limits.openFrom(InetAddress.getByName("2001:db8:1:2::1"))).isEqualTo(1);
    assertThat(limits.openOnRoute("a.test")).isZero();
  }

  @Test
  void rateTableForgetsIdleSourcesAndStaysBounded() throws Exception {
    ConnectionLimits limits =
        limits("limits.per-source { max-connections = 0, new-per-second = 100 }");
    for (int i = 0; i < 1000; i++) {
      assertThat(limits.admit(channel(), from("10.1." + (i / 250) + "." + (i % 250)))).isNull();
    }
    assertThat(limits.rateSources()).isEqualTo(1000);
    clock.addAndGet(ConnectionLimits.RATE_IDLE.toNanos() + 1);
    assertThat(limits.rateSources()).isZero();
    assertThat(ConnectionLimits.MAX_RATE_SOURCES).isEqualTo(200_000);
  }
}
