package io.tollgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.Tollgate;
import io.tollgate.config.ConfigLoader;
import io.tollgate.config.TollgateConfig;
import io.tollgate.connection.CloseReason;
import io.tollgate.metrics.Metrics;
import io.tollgate.testkit.Await;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * A real Tollgate in this JVM, configured from HOCON text whose listener binds {@code 127.0.0.1:0};
 * tests read the chosen port back with {@link #port()}.
 */
final class TollgateFixture implements AutoCloseable {
  private final Tollgate tollgate;

  private TollgateFixture(Tollgate tollgate) {
    this.tollgate = tollgate;
  }

  /**
   * Starts Tollgate with one listener {@code main} on an ephemeral loopback port plus the given
   * HOCON (routes, pools, timeouts...), which is placed inside {@code tollgate { }}.
   */
  static TollgateFixture start(String body) throws Exception {
    String hocon =
        "tollgate {\n  listeners = [ { name = main, address = \"127.0.0.1:0\" } ]\n"
            + body
            + "\n}\n";
    TollgateConfig config = ConfigLoader.parse(hocon, "it.conf");
    return new TollgateFixture(Tollgate.start(config));
  }

  /**
   * Writes {@code tollgate.conf} into {@code dir} (one listener {@code main} on an ephemeral
   * loopback port plus {@code body}) and starts Tollgate from that file, so relative paths in the
   * body resolve against {@code dir} as they would for an operator's file.
   */
  static TollgateFixture startIn(java.nio.file.Path dir, String body) throws Exception {
    java.nio.file.Path file = dir.resolve("tollgate.conf");
    java.nio.file.Files.writeString(
        file,
        "tollgate {\n  listeners = [ { name = main, address = \"127.0.0.1:0\" } ]\n"
            + body
            + "\n}\n");
    return new TollgateFixture(Tollgate.start(ConfigLoader.load(file)));
  }

  /**
   * As {@link #startIn(java.nio.file.Path, String)} with the listeners written out: {@code
   * listeners} is the text of the list, e.g. {@code [ { name = six, address = "[::1]:0" } ]}.
   */
  static TollgateFixture startIn(java.nio.file.Path dir, String listeners, String body)
      throws Exception {
    java.nio.file.Path file = dir.resolve("tollgate.conf");
    java.nio.file.Files.writeString(
        file, "tollgate {\n  listeners = " + listeners + "\n" + body + "\n}\n");
    return new TollgateFixture(Tollgate.start(ConfigLoader.load(file)));
  }

  int port() {
    return tollgate.address("main").getPort();
  }

  /** The bound address of the listener of that name. */
  java.net.InetSocketAddress address(String listener) {
    return tollgate.address(listener);
  }

  Tollgate tollgate() {
    return tollgate;
  }

  Metrics metrics() {
    return tollgate.metrics();
  }

  /**
   * Waits until Tollgate has counted {@code n} closes for {@code reason}: the count is updated when
   * the client channel's close completes, which can be just after the client sees the close.
   */
  void awaitClosed(CloseReason reason, long n) throws InterruptedException {
    await(
        () -> metrics().closedCount(reason) >= n,
        Duration.ofSeconds(10),
        () ->
            "closes with reason "
                + reason.label()
                + " (all closes: "
                + metrics().closedByReason()
                + ")");
    assertThat(metrics().closedCount(reason))
        .as("closes with reason %s (all closes: %s)", reason.label(), metrics().closedByReason())
        .isEqualTo(n);
  }

  /** Polls {@code condition} until it holds; throws an AssertionError after {@code limit}. */
  static void await(BooleanSupplier condition, Duration limit) throws InterruptedException {
    Await.until(condition, limit);
  }

  /** Like {@link #await(BooleanSupplier, Duration)}; {@code what} describes the failure. */
  static void await(BooleanSupplier condition, Duration limit, Supplier<String> what)
      throws InterruptedException {
    Await.until(condition, limit, what);
  }

  @Override
  public void close() {
    tollgate.close();
  }
}
