package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tollgate.cli.TollgateCli;
import io.tollgate.testkit.CommandLineTools;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;

/** The commands a user types: check, run, and the demo with the curl commands it prints. */
class CommandLineTest {
  private static final Path CONF = Path.of("..", "conf");
  private static final Path JAR = Path.of("..", "lb-core", "target", "tollgate.jar");

  private record Result(int exit, String out, String err) {}

  private static Result cli(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cmd = TollgateCli.commandLine();
    cmd.setOut(new PrintWriter(out));
    cmd.setErr(new PrintWriter(err));
    int exit = cmd.execute(args);
    return new Result(exit, out.toString(), err.toString());
  }

  @Test
  void checkAcceptsTheShippedExampleConfig() {
    Result r = cli("check", "--config", CONF.resolve("tollgate.conf").toString());
    assertThat(r.err()).isEmpty();
    assertThat(r.exit()).isZero();
    assertThat(r.out()).contains("tollgate.conf: OK").contains("3 pool(s)");
  }

  @Test
  void checkListsEveryErrorWithFileAndLineAndExitsNonZero() {
    Result r = cli("check", "--config", CONF.resolve("broken-example.conf").toString());
    assertThat(r.exit()).isEqualTo(1);
    List<String> errorLines = r.err().lines().filter(l -> l.startsWith("  ")).toList();
    assertThat(errorLines).hasSizeGreaterThanOrEqualTo(3);
    assertThat(errorLines)
        .allMatch(l -> l.matches("  .*broken-example\\.conf:\\d+: tollgate\\..*"));
  }

  @Test
  void runRefusesToStartWithAnInvalidConfig() {
    Result r = cli("run", "--config", CONF.resolve("broken-example.conf").toString());
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).contains("not starting");
  }

  @Test
  void checkReportsAMissingFile() {
    Result r = cli("check", "--config", "no-such-file.conf");
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).contains("no-such-file.conf");
  }

  @Test
  @Timeout(120)
  void demoServesTheCurlCommandsItPrintsAndStopsCleanly() throws Exception {
    assumeTrue(Files.exists(JAR), "run through mvn verify: needs lb-core's packaged jar");
    assumeTrue(CommandLineTools.which("curl").isPresent(), "curl is not installed");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process demo =
        new ProcessBuilder(java, "-jar", JAR.toString(), "demo", "--port", "0")
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    try {
      List<String> curls = new ArrayList<>();
      Path demoDir = null;
      BufferedReader lines =
          new BufferedReader(new InputStreamReader(demo.getInputStream(), StandardCharsets.UTF_8));
      Pattern files = Pattern.compile("Demo files \\(CA, config\\): (\\S+)");
      for (String line; (line = lines.readLine()) != null && !line.contains("Ctrl-C"); ) {
        if (line.trim().startsWith("curl ")) {
          curls.add(line.trim());
        }
        Matcher m = files.matcher(line);
        if (m.find()) {
          demoDir = Path.of(m.group(1));
        }
      }
      assertThat(curls).hasSize(5);
      assertThat(demoDir).isNotNull().exists();

      assertThat(curl(curls.get(0)))
          .satisfies(
              r -> {
                assertThat(r.exitCode()).isZero();
                assertThat(r.stdout()).contains("hello from alpha").contains("sni: alpha.test");
              });
      assertThat(curl(curls.get(2)).stdout()).contains("hello from beta").contains("www.beta.test");
      // Offload: curl verifies Tollgate's certificate for gamma.test; the backend saw plaintext.
      assertThat(curl(curls.get(3)))
          .satisfies(
              r -> {
                assertThat(r.exitCode()).isZero();
                assertThat(r.stdout())
                    .contains("hello from gamma")
                    .contains("tls: none (plaintext)");
              });
      CommandLineTools.ProcessResult refused = curl(curls.get(4));
      assertThat(refused.exitCode()).as("curl for a name without route fails").isNotZero();
      assertThat(refused.stderr()).containsIgnoringCase("unrecognized name");

      demo.destroy(); // SIGTERM, as Ctrl-C's SIGINT: shutdown hooks stop everything
      assertThat(demo.waitFor(20, TimeUnit.SECONDS)).isTrue();
      assertThat(demoDir).doesNotExist();
    } finally {
      demo.destroyForcibly();
    }
  }

  private static CommandLineTools.ProcessResult curl(String commandLine) {
    List<String> args = new ArrayList<>(List.of(commandLine.split(" ")));
    args.add(1, "--silent");
    args.add(2, "--show-error");
    args.add(3, "--max-time");
    args.add(4, "10");
    return CommandLineTools.run(Duration.ofSeconds(20), args);
  }
}
