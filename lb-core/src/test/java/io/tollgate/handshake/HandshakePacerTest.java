package io.tollgate.handshake;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.DefaultEventLoop;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The handshake budget the loops of one group share, counted against their cores. */
class HandshakePacerTest {
  private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

  @Test
  void aTurnMovesTheClockOnByItsCostScaledByTheShareAndTheCores() {
    HandshakePacer oneCore = new HandshakePacer(1, 2);
    oneCore.otherWork(50, 0);
    oneCore.spent(0, 200 * MS, true);
    // 200 ms at 50% of one core: the next paced turn of any loop starts at 400 ms.
    assertThat(oneCore.waitBefore(200 * MS)).isEqualTo(200 * MS);
    assertThat(oneCore.waitBefore(400 * MS)).isZero();

    HandshakePacer twoCores = new HandshakePacer(2, 2);
    twoCores.otherWork(50, 0);
    twoCores.spent(0, 200 * MS, true);
    // Two cores: the other loop may start at once, and this one after its own pause.
    assertThat(twoCores.waitBefore(0)).isEqualTo(200 * MS);
    twoCores.spent(0, 200 * MS, true);
    assertThat(twoCores.waitBefore(200 * MS)).isEqualTo(200 * MS);
  }

  @Test
  void unpacedTurnsOweAtMostOneTurnWhenPacingStarts() {
    HandshakePacer pacer = new HandshakePacer(1, 1);
    pacer.otherWork(50, 0);
    // A second of back-to-back turns with nobody else around.
    for (long t = 0; t < 1000; t += 10) {
      pacer.spent(t * MS, (t + 10) * MS, false);
    }
    assertThat(pacer.waitBefore(1000 * MS)).isLessThanOrEqualTo(20 * MS);
  }

  @Test
  void otherWorkOnOneLoopPacesItsCoreMatesOnly() {
    HandshakePacer shared = new HandshakePacer(1, 2);
    shared.otherWork(50, 0);
    assertThat(shared.othersOnSharedCores(10 * MS)).isTrue();
    assertThat(shared.othersOnSharedCores(HandshakePacer.OTHERS_NANOS + MS)).isFalse();

    HandshakePacer ownCores = new HandshakePacer(2, 2);
    ownCores.otherWork(50, 0);
    assertThat(ownCores.othersOnSharedCores(10 * MS)).isFalse();
  }

  @Test
  void theLoopsOfAGroupShareOnePacerSizedByTheirCores() throws Exception {
    MultiThreadIoEventLoopGroup group =
        new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    try {
      EventLoop a = group.next();
      EventLoop b = group.next();
      assertThat(a).isNotSameAs(b);
      HandshakePacer pa = a.submit(() -> HandshakePacer.of(a)).get(5, TimeUnit.SECONDS);
      HandshakePacer pb = b.submit(() -> HandshakePacer.of(b)).get(5, TimeUnit.SECONDS);
      assertThat(pa).isSameAs(pb);
      assertThat(pa.slots()).isEqualTo(Math.min(2, Runtime.getRuntime().availableProcessors()));
    } finally {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
  }

  /**
   * Two loops on a one-core budget, each with six 20 ms handshake steps and other work routed all
   * along: together they get half of one core, so the twelve steps (240 ms of work) take at least
   * 400 ms (each pair of turns moves the shared clock on by 80 ms); with a budget per loop they
   * would take about 220 ms.
   */
  @Test
  void loopsSharingACoreGetTheShareOfThatCoreTogether() throws Exception {
    HandshakePacer pacer = new HandshakePacer(1, 2);
    EventLoop a = new DefaultEventLoop();
    EventLoop b = new DefaultEventLoop();
    List<Long> ends = Collections.synchronizedList(new ArrayList<>());
    CountDownLatch done = new CountDownLatch(12);
    long started = System.nanoTime();
    try {
      for (EventLoop loop : List.of(a, b)) {
        loop.submit(
                () -> {
                  HandshakeQueue queue = new HandshakeQueue(loop, 0, pacer);
                  queue.otherWork(50);
                  for (int i = 0; i < 6; i++) {
                    queue.add(
                        "flooded",
                        () -> {
                          queue.otherWork(50); // the other tenant keeps coming
                          spin(20 * MS);
                          ends.add(System.nanoTime());
                          done.countDown();
                        });
                  }
                })
            .get(5, TimeUnit.SECONDS);
      }
      assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
      // A paced turn never starts before the shared clock (a scheduled task never runs early).
      assertThat(Collections.max(ends) - started).isGreaterThanOrEqualTo(400 * MS);
    } finally {
      a.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
      b.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
  }

  private static void spin(long nanos) {
    long until = System.nanoTime() + nanos;
    while (System.nanoTime() < until) {
      Thread.onSpinWait();
    }
  }
}
