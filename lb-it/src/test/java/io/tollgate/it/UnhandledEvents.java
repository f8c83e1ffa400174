package io.tollgate.it;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * Collects what Tollgate failed to handle while a test ran: exceptions that reached the tail of a
 * Netty pipeline (logged at WARN by {@code DefaultChannelPipeline}) and WARN/ERROR lines of the
 * relay package ("unexpected error" is how it reports an exception it has no reason for). {@link
 * #close()} detaches the appenders.
 */
final class UnhandledEvents implements AutoCloseable {
  static final String TAIL_LOGGER = "io.netty.channel.DefaultChannelPipeline";
  private static final List<String> LOGGERS = List.of(TAIL_LOGGER, "io.tollgate.relay");

  private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

  private UnhandledEvents() {}

  static UnhandledEvents capture() {
    UnhandledEvents events = new UnhandledEvents();
    events.appender.setName("unhandled-events");
    events.appender.start();
    for (String name : LOGGERS) {
      Logger logger = (Logger) LoggerFactory.getLogger(name);
      logger.addAppender(events.appender);
    }
    return events;
  }

  /** Each captured event at WARN or above, as "logger: message: exception", oldest first. */
  List<String> all() {
    synchronized (appender) {
      return appender.list.stream()
          .filter(e -> e.getLevel().isGreaterOrEqual(Level.WARN))
          .map(UnhandledEvents::describe)
          .toList();
    }
  }

  /** Forgets what was captured so far (between the cases of one class). */
  void clear() {
    synchronized (appender) {
      appender.list.clear();
    }
  }

  private static String describe(ILoggingEvent e) {
    StringBuilder s =
        new StringBuilder(e.getLoggerName()).append(": ").append(e.getFormattedMessage());
    for (IThrowableProxy t = e.getThrowableProxy(); t != null; t = t.getCause()) {
      s.append(": ").append(t.getClassName()).append(' ').append(t.getMessage());
    }
    return s.toString();
  }

  @Override
  public void close() {
    for (String name : LOGGERS) {
      ((Logger) LoggerFactory.getLogger(name)).detachAppender(appender);
    }
    appender.stop();
  }
}
