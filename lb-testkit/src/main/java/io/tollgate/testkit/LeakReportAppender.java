package io.tollgate.testkit;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.ArrayList;
import java.util.List;

/** Keeps every ERROR that Netty's ResourceLeakDetector logs, so tests can fail on them. */
public final class LeakReportAppender extends AppenderBase<ILoggingEvent> {
  private static final List<String> REPORTS = new ArrayList<>();

  @Override
  protected void append(ILoggingEvent event) {
    synchronized (REPORTS) {
      REPORTS.add(event.getFormattedMessage());
    }
  }

  /** Drops reports from index {@code from} on; only for the test that leaks on purpose. */
  static void forgetSince(int from) {
    synchronized (REPORTS) {
      REPORTS.subList(from, REPORTS.size()).clear();
    }
  }

  /** Reports seen so far in this JVM. */
  public static List<String> reports() {
    synchronized (REPORTS) {
      return List.copyOf(REPORTS);
    }
  }
}
