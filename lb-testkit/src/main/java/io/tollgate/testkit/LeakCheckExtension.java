package io.tollgate.testkit;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.util.List;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test class when Netty's leak detector reports a ByteBuf that was never released while the
 * class ran. Registered for every test class through JUnit's extension auto-detection; the build
 * runs with {@code -Dio.netty.leakDetection.level=paranoid} so every buffer is tracked.
 *
 * <p>The detector only notices a leak after the garbage collector has cleared the buffer and a
 * later allocation polls its queue, so after each class we collect garbage and allocate a few
 * tracked buffers before counting.
 */
public final class LeakCheckExtension implements BeforeAllCallback, AfterAllCallback {
  private static final ExtensionContext.Namespace NS =
      ExtensionContext.Namespace.create(LeakCheckExtension.class);

  @Override
  public void beforeAll(ExtensionContext context) {
    context.getStore(NS).put("before", LeakReportAppender.reports().size());
  }

  @Override
  public void afterAll(ExtensionContext context) throws InterruptedException {
    int before = context.getStore(NS).getOrDefault("before", Integer.class, 0);
    flushLeakDetector();
    List<String> reports = LeakReportAppender.reports();
    if (reports.size() > before) {
      throw new AssertionError(
          "Netty reported "
              + (reports.size() - before)
              + " leaked buffer(s) in "
              + context.getDisplayName()
              + ":\n"
              + String.join("\n---\n", reports.subList(before, reports.size())));
    }
  }

  /** Makes the detector look at buffers that have become unreachable since the last poll. */
  public static void flushLeakDetector() throws InterruptedException {
    for (int round = 0; round < 3; round++) {
      System.gc();
      Thread.sleep(40);
      for (int i = 0; i < 64; i++) {
        allocateAndRelease(ByteBufAllocator.DEFAULT);
        allocateAndRelease(UnpooledByteBufAllocator.DEFAULT);
      }
    }
  }

  private static void allocateAndRelease(ByteBufAllocator alloc) {
    ByteBuf direct = alloc.directBuffer(8);
    direct.release();
    ByteBuf heap = alloc.heapBuffer(8);
    heap.release();
  }
}
