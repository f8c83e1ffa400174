package io.tollgate.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class CommandLineToolsTest {
  @Test
  void whichFindsShellAndNotNonsense() {
    assumeTrue(CommandLineTools.which("sh").isPresent(), "no POSIX shell");
    assertThat(CommandLineTools.which("no-such-tool-tollgate-42")).isEmpty();
  }

  @Test
  void runCapturesExitCodeAndBothStreams() {
    assumeTrue(CommandLineTools.which("sh").isPresent(), "no POSIX shell");
    CommandLineTools.ProcessResult result =
        CommandLineTools.run(Duration.ofSeconds(10), "sh", "-c", "echo out; echo err >&2; exit 3");
    assertThat(result.exitCode()).isEqualTo(3);
    assertThat(result.stdout()).isEqualTo("out\n");
    assertThat(result.stderr()).isEqualTo("err\n");
    assertThat(result.ok()).isFalse();
    assertThat(result.timedOut()).isFalse();
  }

  @Test
  void runKillsProcessOnTimeout() {
    assumeTrue(CommandLineTools.which("sleep").isPresent(), "no sleep");
    long start = System.nanoTime();
    CommandLineTools.ProcessResult result =
        CommandLineTools.run(Duration.ofMillis(200), "sleep", "30");
    assertThat(result.timedOut()).isTrue();
    assertThat(result.ok()).isFalse();
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
  }
}
