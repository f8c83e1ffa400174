package io.tollgate.listener;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.uring.IoUring;
import io.netty.util.concurrent.AbstractScheduledEventExecutor;
import io.netty.util.concurrent.EventExecutor;
import io.tollgate.config.IoConfig;
import java.lang.reflect.Method;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Every loop of a group made by {@link Transport#newGroup} keeps a timer queued when its own timers
 * have all run (the lull that made the JIT throw away the loop's compiled code, see {@link
 * LullGuard}), and the group still shuts down at once: the guard's timer does not hold a loop open.
 */
@Timeout(60)
class LullGuardTest {
  /** The loop's earliest queued timer, due or not (null when none): not public in Netty. */
  private static final Method PEEK_SCHEDULED_TASK;

  static {
    try {
      PEEK_SCHEDULED_TASK =
          AbstractScheduledEventExecutor.class.getDeclaredMethod("peekScheduledTask");
      PEEK_SCHEDULED_TASK.setAccessible(true);
    } catch (NoSuchMethodException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  @ParameterizedTest
  @EnumSource(
      value = IoConfig.Transport.class,
      names = {"NIO", "EPOLL", "IO_URING"})
  void aLoopWhoseTimersAllRanStillHasOneQueuedAndTheGroupShutsDownAtOnce(IoConfig.Transport wanted)
      throws Exception {
    assumeTrue(
        switch (wanted) {
          case EPOLL -> Epoll.isAvailable();
          case IO_URING -> IoUring.isAvailable();
          default -> true;
        },
        wanted + " is not available here");
    EventLoopGroup group =
        Transport.select(wanted).newGroup(2, "lull-test", wanted == IoConfig.Transport.EPOLL);
    try {
      for (EventExecutor loop : group) {
        // A connection's timer comes and goes: after it ran, the queue must not be empty.
        CountDownLatch ran = new CountDownLatch(1);
        loop.schedule(ran::countDown, 10, TimeUnit.MILLISECONDS);
        assertThat(ran.await(5, TimeUnit.SECONDS)).isTrue();
        boolean queued = loop.submit(() -> PEEK_SCHEDULED_TASK.invoke(loop) != null).get();
        assertThat(queued).as("a timer is still queued on %s", loop).isTrue();
      }
    } finally {
      // No quiet period, and a bound far above the wait: a loop held open by the guard's timer
      // would still be running when the wait ends.
      group.shutdownGracefully(0, 60, TimeUnit.SECONDS);
      assertThat(group.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    }
  }
}
