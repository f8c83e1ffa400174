package io.tollgate.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tollgate.listener.InheritedSockets.Socket;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The environment systemd sets for socket activation, read as sd_listen_fds_with_names does. */
class SocketActivationTest {

  @Test
  void descriptorsFromThreeOnWithTheirNames() {
    assertThat(
            SocketActivation.parse(
                Map.of("LISTEN_PID", "42", "LISTEN_FDS", "3", "LISTEN_FDNAMES", "main:admin:alt"),
                42))
        .containsExactly(new Socket("main", 3), new Socket("admin", 4), new Socket("alt", 5));
  }

  @Test
  void variablesMeantForAnotherProcessAreIgnored() {
    assertThat(SocketActivation.parse(Map.of("LISTEN_PID", "41", "LISTEN_FDS", "1"), 42)).isEmpty();
    assertThat(SocketActivation.parse(Map.of("LISTEN_FDS", "1"), 42)).isEmpty();
    assertThat(SocketActivation.parse(Map.of(), 42)).isEmpty();
  }

  @Test
  void systemdsDefaultNamesAndNoNamesMeanMatchByAddress() {
    assertThat(SocketActivation.parse(Map.of("LISTEN_PID", "7", "LISTEN_FDS", "2"), 7))
        .containsExactly(new Socket(null, 3), new Socket(null, 4));
    assertThat(
            SocketActivation.parse(
                Map.of(
                    "LISTEN_PID",
                    "7",
                    "LISTEN_FDS",
                    "4",
                    "LISTEN_FDNAMES",
                    "unknown:connection:tollgate.socket:"),
                7))
        .containsExactly(
            new Socket(null, 3), new Socket(null, 4), new Socket(null, 5), new Socket(null, 6));
  }

  @Test
  void malformedVariablesForThisProcessAreAnError() {
    assertThatThrownBy(
            () -> SocketActivation.parse(Map.of("LISTEN_PID", "7", "LISTEN_FDS", "two"), 7))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("LISTEN_FDS");
    assertThatThrownBy(
            () ->
                SocketActivation.parse(
                    Map.of("LISTEN_PID", "7", "LISTEN_FDS", "2", "LISTEN_FDNAMES", "main"), 7))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("1 name(s) for LISTEN_FDS=2");
  }
}
