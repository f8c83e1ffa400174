package io.tollgate.listener;

import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.config.HostPort;
import io.tollgate.config.ListenerConfig;
import io.tollgate.config.UpstreamProxyProtocol;
import java.util.List;
import org.junit.jupiter.api.Test;

class ListenerChangesTest {

  private static ListenerConfig listener(String name, int port) {
    return new ListenerConfig(name, new HostPort("127.0.0.1", port), UpstreamProxyProtocol.OFF, 0);
  }

  @Test
  void unchangedAddressStaysBoundAndNewOrMovedOnesAreBound() {
    ListenerChanges c =
        ListenerChanges.of(
            List.of(listener("a", 1), listener("b", 2), listener("gone", 3)),
            List.of(listener("new", 4), listener("b", 5), listener("a", 1)));

    assertThat(c.bind()).extracting(ListenerConfig::name).containsExactly("new", "b");
    assertThat(c.close()).containsExactly("b", "gone");
    assertThat(c.closeFirst()).isEmpty();
  }

  @Test
  void anAddressAnotherListenerTakesIsClosedFirst() {
    // A rename (a -> c) and a swap (x <-> y).
    ListenerChanges c =
        ListenerChanges.of(
            List.of(listener("a", 1), listener("x", 2), listener("y", 3), listener("keep", 4)),
            List.of(listener("c", 1), listener("x", 3), listener("y", 2), listener("keep", 4)));

    assertThat(c.bind()).extracting(ListenerConfig::name).containsExactly("c", "x", "y");
    assertThat(c.close()).containsExactly("a", "x", "y");
    assertThat(c.closeFirst()).containsExactly("a", "x", "y");
  }
}
