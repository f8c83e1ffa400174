package io.tollgate.handshake;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.DefaultEventLoop;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.ReferenceCountUtil;
import io.tollgate.testkit.Await;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The queue's two promises: routes take turns, and other work runs between budgets. */
class HandshakeQueueTest {
  private final EventLoop loop = new DefaultEventLoop();

  @AfterEach
  void stop() {
    loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  @Test
  void routesTakeTurnsSoAFloodedRouteDoesNotGoFirstForEverything() throws Exception {
    List<String> order = new ArrayList<>();
    onLoop(
        () -> {
          HandshakeQueue queue = new HandshakeQueue(loop, TimeUnit.SECONDS.toNanos(10));
          for (int i = 0; i < 6; i++) {
            String step = "a" + i;
            queue.add("flooded", () -> order.add(step));
          }
          queue.add("quiet", () -> order.add("b0"));
          queue.add("quiet", () -> order.add("b1"));
          queue.add("third", () -> order.add("c0"));
        });
    awaitSize(order, 9);
    // Round-robin by route in order of arrival: one step per route in turn.
    assertThat(order).containsExactly("a0", "b0", "c0", "a1", "b1", "a2", "a3", "a4", "a5");
  }

  @Test
  void otherWorkOfTheLoopRunsBetweenTurnsNotAfterTheWholeQueue() throws Exception {
    List<String> order = new ArrayList<>();
    onLoop(
        () -> {
          // A budget of zero: one step per turn.
          HandshakeQueue queue = new HandshakeQueue(loop, 0);
          for (int i = 0; i < 4; i++) {
            String step = "h" + i;
            queue.add(
                "flooded",
                () -> {
                  order.add(step);
                  if (step.equals("h0")) {
                    // Work that became ready while a handshake ran (an I/O event, a relay).
                    loop.execute(() -> order.add("cheap"));
                  }
                });
          }
        });
    awaitSize(order, 5);
    assertThat(order).containsExactly("h0", "cheap", "h1", "h2", "h3");
  }

  /**
   * Three 50 ms handshake steps; during the first, work is scheduled for 75 ms after it began (an
   * I/O event of another tenant). Returns the order things ran in and when each step began.
   */
  private List<String> threeStepsAndOtherWork(int share, List<Long> started) throws Exception {
    List<String> order = Collections.synchronizedList(new ArrayList<>());
    onLoop(
        () -> {
          HandshakeQueue queue = new HandshakeQueue(loop, 0);
          if (share > 0) {
            queue.otherWork(share);
          }
          for (int i = 0; i < 3; i++) {
            String step = "h" + i;
            queue.add(
                "flooded",
                () -> {
                  started.add(System.nanoTime());
                  order.add(step);
                  if (step.equals("h0")) {
                    loop.schedule(() -> order.add("other"), 75, TimeUnit.MILLISECONDS);
                  }
                  sleep(50);
                  if (share > 0) {
                    queue.otherWork(share); // the other tenant keeps coming
                  }
                });
          }
        });
    awaitSize(order, 4);
    return order;
  }

  @Test
  void whileOtherWorkIsRoutedTurnsArePacedToTheirShareOfTheLoop() throws Exception {
    // At a 25% share each next turn waits three times what the last one took (a lower bound: a
    // scheduled task never runs early), and the other tenant's work runs in that pause.
    List<Long> started = Collections.synchronizedList(new ArrayList<>());
    assertThat(threeStepsAndOtherWork(25, started)).containsExactly("h0", "other", "h1", "h2");
    for (int i = 1; i < 3; i++) {
      assertThat(started.get(i) - started.get(i - 1))
          .as("from step %d to %d", i - 1, i)
          .isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(50 + 150));
    }
  }

  @Test
  void withNobodyElseRoutedOrAFullShareTurnsAreNotPaced() throws Exception {
    // Back to back: the second step runs at 50 ms, before the other work due at 75 ms.
    assertThat(threeStepsAndOtherWork(0, new ArrayList<>()))
        .containsExactly("h0", "h1", "other", "h2");
    assertThat(threeStepsAndOtherWork(100, new ArrayList<>()))
        .containsExactly("h0", "h1", "other", "h2");
  }

  /**
   * A step for {@link #inAPausedQueue}: runs on the loop as a 20 ms handshake, or leaves for a
   * handshake thread when asked in a pause while {@code free} threads remain.
   */
  private static HandshakeQueue.Step gapStep(
      String name,
      List<String> order,
      int[] free,
      HandshakeQueue[] queue,
      boolean canLeave,
      int share) {
    return new HandshakeQueue.Step() {
      @Override
      public void proceed() {
        order.add(name);
        sleep(20);
        if (share > 0) {
          queue[0].otherWork(share); // the other tenant keeps coming
        }
      }

      @Override
      public boolean leaveForGap() {
        if (!canLeave || free[0] == 0) {
          return false;
        }
        free[0]--;
        order.add("thread:" + name);
        return true;
      }
    };
  }

  /** Four steps on a queue paced at 25%, with {@code threads} idle handshake threads. */
  private List<String> inAPausedQueue(int threads, boolean canLeave, int share) throws Exception {
    List<String> order = Collections.synchronizedList(new ArrayList<>());
    int[] free = {threads};
    HandshakeQueue[] queue = new HandshakeQueue[1];
    onLoop(
        () -> {
          queue[0] = new HandshakeQueue(loop, 0);
          if (share > 0) {
            queue[0].otherWork(share);
          }
          for (int i = 0; i < 4; i++) {
            queue[0].add("flooded", gapStep("h" + i, order, free, queue, canLeave, share));
          }
        });
    awaitSize(order, 4);
    Thread.sleep(300); // four 20 ms steps at 25%: well within, with the pauses
    loop.submit(() -> {}).get(5, TimeUnit.SECONDS);
    return order;
  }

  @Test
  void inAPausedTurnWaitingStepsGoToIdleHandshakeThreadsInRouteOrder() throws Exception {
    // handshake-threads-when = gaps: the first step runs on the loop; the pause after it sends
    // the next ones to the threads while one is idle (two here); the rest waits for the next turn.
    assertThat(inAPausedQueue(2, true, 25)).containsExactly("h0", "thread:h1", "thread:h2", "h3");
  }

  @Test
  void withoutPacingOrWithoutAThreadThatTakesThemStepsStayOnTheLoop() throws Exception {
    // Not paced (nobody else routed): no pause, so no step leaves.
    assertThat(inAPausedQueue(2, true, 0)).containsExactly("h0", "h1", "h2", "h3");
    // Paced, but the steps cannot leave (no threads, or not in gaps mode): they stay in order.
    assertThat(inAPausedQueue(2, false, 25)).containsExactly("h0", "h1", "h2", "h3");
    // Paced, every thread busy.
    assertThat(inAPausedQueue(0, true, 25)).containsExactly("h0", "h1", "h2", "h3");
  }

  @Test
  void aTurnStopsBeforeAStepThatWouldGoOverTheBudgetButCheapStepsShareOne() throws Exception {
    List<String> order = new ArrayList<>();
    onLoop(
        () -> {
          // Each full handshake takes more than half the budget: one per turn, where stopping
          // only once over the budget would run two and take 1.2 budgets.
          HandshakeQueue queue = new HandshakeQueue(loop, TimeUnit.MILLISECONDS.toNanos(200));
          for (int i = 0; i < 3; i++) {
            String step = "full" + i;
            queue.add(
                "flooded",
                () -> {
                  order.add(step);
                  loop.execute(() -> order.add("cheap work"));
                  sleep(120);
                });
          }
          // Steps that cost (next to) nothing, such as reading a client's Finished, share a turn.
          for (int i = 0; i < 3; i++) {
            String step = "finished" + i;
            queue.add("other", () -> order.add(step));
          }
        });
    awaitSize(order, 9);
    assertThat(order)
        .containsExactly(
            "full0",
            "cheap work",
            "finished0",
            "full1",
            "cheap work",
            "finished1",
            "full2",
            "cheap work",
            "finished2");
  }

  @Test
  void socketsThatBecameReadableAreServedBetweenTurns() throws Exception {
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    List<String> order = Collections.synchronizedList(new ArrayList<>());
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Channel client =
          new Bootstrap()
              .group(group)
              .channel(NioSocketChannel.class)
              .handler(
                  new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                      ReferenceCountUtil.release(msg);
                      order.add("io");
                    }
                  })
              .connect(server.getLocalSocketAddress())
              .sync()
              .channel();
      try (Socket peer = server.accept()) {
        EventLoop ioLoop = client.eventLoop();
        ioLoop
            .submit(
                () -> {
                  HandshakeQueue queue = new HandshakeQueue(ioLoop, 0);
                  for (int i = 0; i < 3; i++) {
                    String step = "h" + i;
                    queue.add(
                        "flooded",
                        () -> {
                          order.add(step);
                          if (step.equals("h0")) {
                            // A client's bytes arrive while a handshake runs (the step's
                            // 20 ms of "work" lets loopback deliver them), so the loop's next
                            // I/O pass sees them.
                            write(peer);
                            sleep(20);
                          }
                        });
                  }
                })
            .get(5, TimeUnit.SECONDS);
        Await.until(() -> order.size() == 4, Duration.ofSeconds(5));
        assertThat(order).containsExactly("h0", "io", "h1", "h2");
      } finally {
        client.close().sync();
      }
    } finally {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void write(Socket peer) {
    try {
      peer.getOutputStream().write(1);
      peer.getOutputStream().flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Test
  void aTurnRunsStepsUntilItsBudgetIsSpent() throws Exception {
    List<String> order = new ArrayList<>();
    onLoop(
        () -> {
          HandshakeQueue queue = new HandshakeQueue(loop, TimeUnit.SECONDS.toNanos(10));
          for (int i = 0; i < 3; i++) {
            String step = "h" + i;
            queue.add(
                "r",
                () -> {
                  order.add(step);
                  if (step.equals("h0")) {
                    loop.execute(() -> order.add("cheap"));
                  }
                });
          }
        });
    awaitSize(order, 4);
    // Within budget the turn keeps going: an idle loop gives handshakes all its time.
    assertThat(order).containsExactly("h0", "h1", "h2", "cheap");
  }

  @Test
  void idleRoutesAreForgotten() throws Exception {
    HandshakeQueue[] queue = new HandshakeQueue[1];
    List<String> order = new ArrayList<>();
    onLoop(
        () -> {
          queue[0] = new HandshakeQueue(loop, 0);
          queue[0].add("r1", () -> order.add("x"));
          queue[0].add("r2", () -> order.add("y"));
        });
    awaitSize(order, 2);
    CompletableFuture<Integer> waiting = new CompletableFuture<>();
    loop.execute(() -> waiting.complete(queue[0].waiting() + queue[0].routes()));
    assertThat(waiting.get(5, TimeUnit.SECONDS)).isZero();
  }

  @Test
  void aStepIsContendedOnlyWithTwoRoutesCloseTogetherAndStepsAlreadyWaiting() throws Exception {
    long backoff = TimeUnit.SECONDS.toNanos(30);
    List<Boolean> seen = new ArrayList<>();
    onLoop(
        () -> {
          HandshakeQueue.routeSeen(loop, "a");
          HandshakeQueue.routeSeen(loop, "a");
          HandshakeQueue queue = HandshakeQueue.of(loop);
          seen.add(queue.contended(1, backoff)); // one tenant alone: its steps stay here
          seen.add(queue.contended(0, backoff)); // and nothing waiting
          HandshakeQueue.routeSeen(loop, "b");
          seen.add(queue.contended(1, backoff)); // two tenants, a step waiting
        });
    assertThat(seen).containsExactly(false, false, true);
    // Nothing waiting, but a step went to the threads moments ago: the next goes there too.
    seen.clear();
    Thread.sleep(TimeUnit.NANOSECONDS.toMillis(HandshakeQueue.STAY_NANOS) + 5);
    onLoop(
        () -> {
          HandshakeQueue queue = HandshakeQueue.of(loop);
          // Two tenants again, now (the first block's may be past 50 ms on a slow box).
          HandshakeQueue.routeSeen(loop, "a");
          HandshakeQueue.routeSeen(loop, "b");
          seen.add(queue.contended(0, backoff)); // nothing waiting, none sent lately
          long sent = System.nanoTime();
          seen.add(queue.contended(1, backoff));
          boolean next = queue.contended(0, backoff);
          // Only asserted when the loop was not stalled past the window between the two calls.
          seen.add(System.nanoTime() - sent < HandshakeQueue.STAY_NANOS ? next : Boolean.TRUE);
          queue.stepReclaimed();
          seen.add(queue.contended(1, backoff)); // the threads were starved just now
          seen.add(queue.contended(1, 0));
        });
    assertThat(seen).containsExactly(false, true, true, false, true);
  }

  @Test
  void twoRoutesFarApartDoNotMakeALoopContended() throws Exception {
    List<Boolean> seen = new ArrayList<>();
    onLoop(() -> HandshakeQueue.routeSeen(loop, "a"));
    Thread.sleep(TimeUnit.NANOSECONDS.toMillis(HandshakePacer.OTHERS_NANOS) + 20);
    onLoop(
        () -> {
          HandshakeQueue.routeSeen(loop, "b");
          seen.add(HandshakeQueue.of(loop).contended(1, 0));
          HandshakeQueue.routeSeen(loop, "a");
          seen.add(HandshakeQueue.of(loop).contended(1, 0));
        });
    assertThat(seen).containsExactly(false, true);
  }

  @Test
  void stepsHandedBackByAThreadComeBackInTurnsWithTheLoopsOtherWorkBetween() throws Exception {
    List<String> order = Collections.synchronizedList(new ArrayList<>());
    // A budget of zero: one step back per turn.
    HandshakeQueue queue = new HandshakeQueue(loop, 0);
    // Handed back from this thread (a handshake thread's place), all before the loop takes any.
    CompletableFuture<Void> gate = new CompletableFuture<>();
    loop.execute(gate::join);
    for (int i = 0; i < 4; i++) {
      String step = "back" + i;
      queue.handBack(
          returned(
              () -> {
                order.add(step);
                if (step.equals("back0")) {
                  // Work that became ready meanwhile (an I/O event, another tenant's relay).
                  loop.execute(() -> order.add("cheap"));
                }
              },
              () -> order.add("discarded")),
          false);
    }
    gate.complete(null);
    awaitSize(order, 5);
    assertThat(order).containsExactly("back0", "cheap", "back1", "back2", "back3");
  }

  @Test
  void theLastOfARunOfLazilyHandedBackStepsWakesTheLoopForAllOfThem() throws Exception {
    // An I/O loop sleeps in its selector until woken: a lazily handed-back step alone would wait
    // for the loop's next event (a flood's steps do, while more are on their way), but the last
    // of the run, handed back eagerly, must wake it for every one, even with a turn already due.
    EventLoopGroup io = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    try {
      EventLoop ioLoop = io.next();
      HandshakeQueue queue = new HandshakeQueue(ioLoop, TimeUnit.SECONDS.toNanos(10));
      // The loop asleep in its selector, with nothing scheduled.
      ioLoop.submit(() -> {}).get(5, TimeUnit.SECONDS);
      Thread.sleep(100);
      List<String> order = Collections.synchronizedList(new ArrayList<>());
      CompletableFuture<Void> both = new CompletableFuture<>();
      queue.handBack(returned(() -> order.add("lazy"), () -> {}), true);
      queue.handBack(
          returned(
              () -> {
                order.add("eager");
                both.complete(null);
              },
              () -> {}),
          false);
      // Unwoken, the loop would sleep until Netty's own timer (a second) or the steps' reclaim
      // timers (100 ms each, and none here); woken, it takes them at once.
      both.get(500, TimeUnit.MILLISECONDS);
      assertThat(order).containsExactly("lazy", "eager");
    } finally {
      io.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
  }

  @Test
  void stepsHandedBackToALoopThatIsGoneAreDiscardedNotLost() throws Exception {
    List<String> order = Collections.synchronizedList(new ArrayList<>());
    HandshakeQueue queue = new HandshakeQueue(loop, TimeUnit.SECONDS.toNanos(10));
    loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    queue.handBack(returned(() -> order.add("back"), () -> order.add("discarded")), false);
    assertThat(order).containsExactly("discarded");
  }

  private static HandshakeQueue.Returned returned(Runnable back, Runnable discard) {
    return new HandshakeQueue.Returned() {
      @Override
      public void backOnLoop() {
        back.run();
      }

      @Override
      public void discard() {
        discard.run();
      }
    };
  }

  private void onLoop(Runnable r) throws Exception {
    loop.submit(r).get(5, TimeUnit.SECONDS);
  }

  private void awaitSize(List<String> list, int size) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (true) {
      CompletableFuture<Integer> n = new CompletableFuture<>();
      loop.execute(() -> n.complete(list.size()));
      if (n.get(5, TimeUnit.SECONDS) >= size || System.nanoTime() > deadline) {
        break;
      }
      Thread.sleep(10);
    }
    // Let anything that would wrongly run after the expected steps show up.
    loop.submit(() -> {}).get(5, TimeUnit.SECONDS);
    loop.schedule(() -> {}, 20, TimeUnit.MILLISECONDS).get(5, TimeUnit.SECONDS);
  }
}
