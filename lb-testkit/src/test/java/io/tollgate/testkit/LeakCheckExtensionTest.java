package io.tollgate.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import org.junit.jupiter.api.Test;

/** Proves the leak check can fail: a deliberately dropped buffer must show up as a report. */
class LeakCheckExtensionTest {

  @Test
  void detectorReportsABufferThatWasNeverReleased() throws Exception {
    int before = LeakReportAppender.reports().size();
    leakOneBuffer();
    for (int i = 0; i < 20 && LeakReportAppender.reports().size() == before; i++) {
      LeakCheckExtension.flushLeakDetector();
    }
    assertThat(LeakReportAppender.reports()).hasSizeGreaterThan(before);
    assertThat(LeakReportAppender.reports().get(before)).contains("LEAK");
    // This class's own afterAll would now fail; forget the deliberate leak so it does not.
    LeakReportAppender.forgetSince(before);
  }

  private static void leakOneBuffer() {
    ByteBuf buf = ByteBufAllocator.DEFAULT.directBuffer(16);
    buf.writeLong(42);
    // dropped on purpose
  }
}
