package io.tollgate.connection;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.embedded.EmbeddedChannel;
import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class RefusalTest {
  private static EmbeddedChannel channelWithConnection() {
    EmbeddedChannel ch = new EmbeddedChannel();
    ch.attr(Connection.KEY)
        .set(new Connection("1", "main", new InetSocketAddress("127.0.0.1", 1), 0));
    return ch;
  }

  @Test
  void recordsTheReasonBeforeTheAlertAndTheClose() {
    EmbeddedChannel ch = channelWithConnection();
    Connection conn = Connection.of(ch);
    AtomicReference<CloseReason> seenAtClose = new AtomicReference<>();
    ch.closeFuture().addListener(f -> seenAtClose.set(conn.reason()));

    Refusal.refuse(ch, CloseReason.NO_ROUTE, "no route for a.test", TlsAlert.UNRECOGNIZED_NAME);

    ByteBuf alert = ch.readOutbound();
    try {
      // fatal (2) unrecognized_name (112) in a TLS 1.2-versioned alert record (21)
      assertThat(ByteBufUtil.hexDump(alert)).isEqualTo("15030300020270");
    } finally {
      alert.release();
    }
    assertThat((Object) ch.readOutbound()).isNull();
    assertThat(ch.isOpen()).isFalse();
    assertThat(seenAtClose.get()).isEqualTo(CloseReason.NO_ROUTE);
    assertThat(conn.reasonDetail()).isEqualTo("no route for a.test");
  }

  @Test
  void withoutAnAlertOnlyCloses() {
    EmbeddedChannel ch = channelWithConnection();
    Refusal.refuse(ch, CloseReason.LIMIT_GLOBAL, "limit", null);
    assertThat((Object) ch.readOutbound()).isNull();
    assertThat(ch.isOpen()).isFalse();
    assertThat(Connection.of(ch).reason()).isEqualTo(CloseReason.LIMIT_GLOBAL);
  }

  @Test
  void theFirstReasonRecordedStaysTheCause() {
    EmbeddedChannel ch = channelWithConnection();
    Connection.of(ch).closeReason(CloseReason.HELLO_TIMEOUT, "slow");
    Refusal.refuse(ch, CloseReason.BAD_PROXY_HEADER, "late", null);
    assertThat(Connection.of(ch).reason()).isEqualTo(CloseReason.HELLO_TIMEOUT);
    assertThat(ch.isOpen()).isFalse();
  }

  @Test
  void aChannelWithoutAConnectionRecordIsStillClosed() {
    EmbeddedChannel ch = new EmbeddedChannel();
    Refusal.refuse(ch, CloseReason.NOT_TLS, "plaintext", null);
    assertThat(ch.isOpen()).isFalse();
  }
}
