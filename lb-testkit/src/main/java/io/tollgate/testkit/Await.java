package io.tollgate.testkit;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Bounded waits for a condition, in place of sleeping and hoping. */
public final class Await {
  private static final long POLL_MILLIS = 5;

  private Await() {}

  /** Polls {@code condition} until it holds; throws an AssertionError after {@code limit}. */
  public static void until(BooleanSupplier condition, Duration limit) throws InterruptedException {
    until(condition, limit, () -> "the condition");
  }

  /** Like {@link #until(BooleanSupplier, Duration)}; {@code what} describes the failure. */
  public static void until(BooleanSupplier condition, Duration limit, Supplier<String> what)
      throws InterruptedException {
    long deadline = System.nanoTime() + limit.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline >= 0) {
        throw new AssertionError("not met after " + limit.toMillis() + " ms: " + what.get());
      }
      Thread.sleep(POLL_MILLIS);
    }
  }
}
