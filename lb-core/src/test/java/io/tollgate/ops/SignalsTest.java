package io.tollgate.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Which environments leave SIGUSR2 to HotSpot's thread suspension (as HotSpot reads the variable).
 */
class SignalsTest {
  @Test
  void usr2IsTheSuspendSignalUnlessTheVariableNamesAnotherOneHotSpotAccepts() {
    assertThat(Signals.usr2SuspendsThreads(Map.of())).isTrue();
    assertThat(Signals.usr2SuspendsThreads(Map.of("_JAVA_SR_SIGNUM", "39"))).isFalse();
    assertThat(Signals.usr2SuspendsThreads(Map.of("_JAVA_SR_SIGNUM", " 40 "))).isFalse();
    assertThat(Signals.usr2SuspendsThreads(Map.of("_JAVA_SR_SIGNUM", "12"))).isTrue();
    // HotSpot ignores a signal at or below SIGSEGV, or past the last one, and keeps SIGUSR2.
    assertThat(Signals.usr2SuspendsThreads(Map.of("_JAVA_SR_SIGNUM", "10"))).isTrue();
    assertThat(Signals.usr2SuspendsThreads(Map.of("_JAVA_SR_SIGNUM", "65"))).isTrue();
    assertThat(Signals.usr2SuspendsThreads(Map.of("_JAVA_SR_SIGNUM", "usr1"))).isTrue();
  }
}
