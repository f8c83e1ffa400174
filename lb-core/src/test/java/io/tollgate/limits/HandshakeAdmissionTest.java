package io.tollgate.limits;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.Channel;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.concurrent.DefaultPromise;
import io.netty.util.concurrent.Promise;
import io.tollgate.config.ConfigLoader;
import io.tollgate.config.TollgateConfig;
import io.tollgate.connection.CloseReason;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Handshake admission's bookkeeping without sockets: buckets and caps per route, a slot given back
 * exactly once whichever way the handshake ends, state kept across a reload. The end-to-end
 * behaviour with real TLS clients is {@code HandshakeAdmissionTest} in lb-it.
 */
class HandshakeAdmissionTest {
  private static final long SECOND = 1_000_000_000L;

  @TempDir Path dir;
  private final AtomicLong clock = new AtomicLong(SECOND);
  private final List<EmbeddedChannel> channels = new ArrayList<>();

  @AfterEach
  void closeAll() {
    channels.forEach(EmbeddedChannel::finishAndReleaseAll);
  }

  /** A config with offload routes a.test and b.test, {@code limits} of each written as given. */
  private TollgateConfig config(String defaults, String aLimits, String bLimits) throws Exception {
    Files.writeString(dir.resolve("c.pem"), "");
    String offload = "mode = offload, pool = p, certificate { chain = c.pem, key = c.pem }";
    Path file = dir.resolve("tollgate.conf");
    Files.writeString(
        file,
        "tollgate {\n"
            + "  listeners = [ { name = main, address = \"127.0.0.1:0\" } ]\n"
            + "  pools.p.servers = [\"127.0.0.1:9\"]\n"
            + "  limits.per-route { "
            + defaults
            + " }\n"
            + "  routes = [\n"
            + "    { hosts = [a.test], "
            + offload
            + (aLimits.isEmpty() ? "" : ", limits { " + aLimits + " }")
            + " }\n"
            + "    { hosts = [b.test], "
            + offload
            + (bLimits.isEmpty() ? "" : ", limits { " + bLimits + " }")
            + " }\n"
            + "  ]\n"
            + "}\n");
    return ConfigLoader.load(file);
  }

  private HandshakeAdmission admission(String aLimits) throws Exception {
    return new HandshakeAdmission(config("", aLimits, ""), clock::get);
  }

  private EmbeddedChannel channel() {
    EmbeddedChannel ch = new EmbeddedChannel();
    channels.add(ch);
    return ch;
  }

  private static Promise<Channel> handshake(EmbeddedChannel ch) {
    return new DefaultPromise<>(ch.eventLoop());
  }

  @Test
  void theBucketPassesTheBurstThenTheRate() throws Exception {
    HandshakeAdmission admission = admission("handshakes-per-second = 2, handshakes-burst = 3");
    for (int i = 0; i < 3; i++) {
      assertThat(admission.admit(channel(), "a.test").refused()).as("burst %d", i).isNull();
    }
    assertThat(admission.admit(channel(), "a.test").refused())
        .isEqualTo(CloseReason.HANDSHAKE_RATE_LIMITED);
    clock.addAndGet(SECOND / 2); // one token at 2/s
    assertThat(admission.admit(channel(), "a.test").refused()).isNull();
    assertThat(admission.admit(channel(), "a.test").refused())
        .isEqualTo(CloseReason.HANDSHAKE_RATE_LIMITED);
    clock.addAndGet(10 * SECOND); // refills to the burst, not beyond
    for (int i = 0; i < 3; i++) {
      assertThat(admission.admit(channel(), "a.test").refused()).isNull();
    }
    assertThat(admission.admit(channel(), "a.test").refused())
        .isEqualTo(CloseReason.HANDSHAKE_RATE_LIMITED);
  }

  @Test
  void theCapCountsFromAdmissionUntilTheHandshakeEnds() throws Exception {
    HandshakeAdmission admission = admission("concurrent-handshakes = 2");
    EmbeddedChannel one = channel();
    Promise<Channel> oneHandshake = handshake(one);
    admission.admit(one, "a.test").until(oneHandshake);
    EmbeddedChannel two = channel();
    assertThat(admission.admit(two, "a.test").refused()).isNull();
    assertThat(admission.inProgress("a.test")).isEqualTo(2);
    assertThat(admission.admit(channel(), "a.test").refused())
        .isEqualTo(CloseReason.HANDSHAKE_CONCURRENCY_LIMITED);

    oneHandshake.setSuccess(one); // established: no longer a handshake, though still open
    assertThat(admission.inProgress("a.test")).isEqualTo(1);
    assertThat(admission.admit(channel(), "a.test").refused()).isNull();
    one.close(); // its slot went back already
    assertThat(admission.inProgress("a.test")).isEqualTo(2);
  }

  @Test
  void aCloseDuringTheHandshakeGivesTheSlotBackOnce() throws Exception {
    HandshakeAdmission admission = admission("concurrent-handshakes = 1");
    EmbeddedChannel reset = channel();
    Promise<Channel> handshake = handshake(reset);
    admission.admit(reset, "a.test").until(handshake);
    assertThat(admission.inProgress("a.test")).isEqualTo(1);
    // A reset during the handshake: the channel closes and the SslHandler fails its handshake,
    // in either order; both release, one counts.
    reset.close();
    handshake.setFailure(new ClosedChannelException());
    assertThat(admission.inProgress("a.test")).isZero();

    EmbeddedChannel failed = channel();
    Promise<Channel> failing = handshake(failed);
    admission.admit(failed, "a.test").until(failing);
    failing.setFailure(new IOException("bad certificate"));
    failed.close();
    assertThat(admission.inProgress("a.test")).isZero();

    // Closed before the SslHandler existed (say, no certificate): the close alone releases.
    admission.admit(channel(), "a.test");
    channels.get(channels.size() - 1).close();
    assertThat(admission.inProgress("a.test")).isZero();
    assertThat(admission.admit(channel(), "a.test").refused()).isNull();
  }

  @Test
  void aRefusalByTheCapTakesNoToken() throws Exception {
    HandshakeAdmission admission =
        admission("handshakes-per-second = 2, concurrent-handshakes = 1");
    EmbeddedChannel first = channel();
    assertThat(admission.admit(first, "a.test").refused()).isNull(); // token 1 of 2
    for (int i = 0; i < 5; i++) {
      assertThat(admission.admit(channel(), "a.test").refused())
          .isEqualTo(CloseReason.HANDSHAKE_CONCURRENCY_LIMITED);
    }
    first.close();
    EmbeddedChannel second = channel();
    assertThat(admission.admit(second, "a.test").refused()).as("token 2 of 2").isNull();
    second.close();
    assertThat(admission.admit(channel(), "a.test").refused())
        .isEqualTo(CloseReason.HANDSHAKE_RATE_LIMITED);
    assertThat(admission.inProgress("a.test")).as("a rate refusal gives its slot back").isZero();
  }

  @Test
  void oneRoutesLimitNeverRefusesAnotherRoute() throws Exception {
    HandshakeAdmission admission =
        new HandshakeAdmission(
            config(
                "",
                "handshakes-per-second = 1, concurrent-handshakes = 1",
                "concurrent-handshakes = 3"),
            clock::get);
    assertThat(admission.admit(channel(), "a.test").refused()).isNull();
    for (int i = 0; i < 100; i++) {
      assertThat(admission.admit(channel(), "a.test").refused()).isNotNull();
    }
    for (int i = 0; i < 3; i++) {
      assertThat(admission.admit(channel(), "b.test").refused()).as("b %d", i).isNull();
    }
    assertThat(admission.inProgress("a.test")).isEqualTo(1);
    assertThat(admission.inProgress("b.test")).isEqualTo(3);
    // A default route (or any name without limits of its own) has its own state too.
    assertThat(admission.admit(channel(), "default").refused()).isNull();
  }

  @Test
  void theDefaultsApplyToEachRouteSeparately() throws Exception {
    HandshakeAdmission admission =
        new HandshakeAdmission(config("concurrent-handshakes = 1", "", ""), clock::get);
    assertThat(admission.admit(channel(), "a.test").refused()).isNull();
    assertThat(admission.admit(channel(), "a.test").refused())
        .isEqualTo(CloseReason.HANDSHAKE_CONCURRENCY_LIMITED);
    assertThat(admission.admit(channel(), "b.test").refused()).isNull();
    assertThat(admission.admit(channel(), "default").refused()).isNull();
    assertThat(admission.admit(channel(), "default").refused())
        .isEqualTo(CloseReason.HANDSHAKE_CONCURRENCY_LIMITED);
  }

  @Test
  void aReloadKeepsHandshakesInProgressAndForgetsRoutesWithoutLimits() throws Exception {
    HandshakeAdmission admission = admission("concurrent-handshakes = 1");
    EmbeddedChannel held = channel();
    assertThat(admission.admit(held, "a.test").refused()).isNull();

    admission.apply(config("", "concurrent-handshakes = 2", ""));
    assertThat(admission.inProgress("a.test")).as("same route, same state").isEqualTo(1);
    assertThat(admission.admit(channel(), "a.test").refused()).isNull();
    assertThat(admission.admit(channel(), "a.test").refused())
        .isEqualTo(CloseReason.HANDSHAKE_CONCURRENCY_LIMITED);

    admission.apply(config("", "", ""));
    assertThat(admission.trackedRoutes()).isZero();
    assertThat(admission.admit(channel(), "a.test").refused()).isNull();
    held.close(); // gives back to the state it took from, which nobody reads any more
    assertThat(admission.trackedRoutes()).isZero();
  }
}
