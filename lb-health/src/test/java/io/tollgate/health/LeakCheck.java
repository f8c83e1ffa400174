package io.tollgate.health;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test class when Netty's leak detector reports a buffer it never released. The same
 * check as lb-core's {@code io.tollgate.testkit.LeakCheckExtension}, repeated here because
 * lb-health cannot depend on lb-core's test-jar (lb-core depends on lb-health). Registered for
 * every class through JUnit's extension auto-detection; {@link Appender} is wired in
 * {@code logback-test.xml}.
 */
public final class LeakCheck implements BeforeAllCallback, AfterAllCallback {
  private static final ExtensionContext.Namespace NS =
      ExtensionContext.Namespace.create(LeakCheck.class);
  private static final List<String> REPORTS = new ArrayList<>();

  /** Keeps every ERROR Netty's ResourceLeakDetector logs. */
  public static final class Appender extends AppenderBase<ILoggingEvent> {
    @Override
    protected void append(ILoggingEvent event) {
      synchronized (REPORTS) {
        REPORTS.add(event.getFormattedMessage());
      }
    }
  }

  private static List<String> reports() {
    synchronized (REPORTS) {
      return List.copyOf(REPORTS);
    }
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    context.getStore(NS).put("before", reports().size());
  }

  @Override
  public void afterAll(ExtensionContext context) throws InterruptedException {
    int before = context.getStore(NS).getOrDefault("before", Integer.class, 0);
    for (int round = 0; round < 3; round++) {
      System.gc();
      Thread.sleep(40);
      for (int i = 0; i < 64; i++) {
        for (ByteBufAllocator alloc :
            List.of(ByteBufAllocator.DEFAULT, UnpooledByteBufAllocator.DEFAULT)) {
          ByteBuf direct = alloc.directBuffer(8);
          direct.release();
          ByteBuf heap = alloc.heapBuffer(8);
          heap.release();
        }
      }
    }
    List<String> all = reports();
    if (all.size() > before) {
      throw new AssertionError("Netty reported " + (all.size() - before)
          + " leaked buffer(s) in " + context.getDisplayName() + ":\n"
          + String.join("\n---\n", all.subList(before, all.size())));
    }
  }
}
