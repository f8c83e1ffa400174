package io.tollgate.it;

import org.junit.jupiter.api.TestInfo;

/**
 * Which {@code io.transport} a test class runs on: its {@code IoUring...} subclass runs the same
 * cases on io_uring, every other class on the default (epoll here).
 */
final class TransportUnderTest {
  private TransportUnderTest() {}

  /** {@code "io_uring"} for an {@code IoUring...} test class, else {@code "auto"}. */
  static String of(TestInfo info) {
    return info.getTestClass().map(c -> c.getSimpleName().startsWith("IoUring")).orElse(false)
        ? "io_uring"
        : "auto";
  }
}
