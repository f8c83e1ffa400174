package io.tollgate.accesslog;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.FileAppender;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.filter.Filter;
import ch.qos.logback.core.spi.FilterReply;
import io.tollgate.config.AccessLogConfig;
import java.io.IOException;
import java.lang.reflect.Proxy;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The logback appender behind {@code access-log.path}: a console appender for stdout/stderr, a file
 * appender (append mode) for a path, attached to the {@value AccessLog#LOGGER} logger (not
 * additive, so access lines never reach the operator log) with the pattern {@code %msg%n}.
 *
 * <p>Rotation: move the file away, then send the process SIGUSR1; every file output reopens its
 * path (logback's {@code openFile} swaps the stream under the appender's lock, so no line is lost
 * or split). This keeps rotation to the system's logrotate rather than our own policy.
 */
public final class AccessLogOutput implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AccessLogOutput.class);
  private static final Set<AccessLogOutput> OPEN = ConcurrentHashMap.newKeySet();
  private static final AtomicBoolean SIGNAL_INSTALLED = new AtomicBoolean();

  private final AccessLogConfig config;
  private final OutputStreamAppender<ILoggingEvent> appender;

  private AccessLogOutput(AccessLogConfig config, OutputStreamAppender<ILoggingEvent> appender) {
    this.config = config;
    this.appender = appender;
  }

  /** Starts the output {@code config} asks for, taking the lines of {@code accessLog}. */
  public static AccessLogOutput start(AccessLogConfig config, AccessLog accessLog) {
    if (config.target() == AccessLogConfig.Target.OFF) {
      return new AccessLogOutput(config, null);
    }
    if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
      log.warn(
          "access-log.path is set but SLF4J is not bound to logback here; configure the"
              + " logger \"{}\" in your logging backend instead",
          AccessLog.LOGGER);
      return new AccessLogOutput(config, null);
    }
    PatternLayoutEncoder encoder = new PatternLayoutEncoder();
    encoder.setContext(context);
    encoder.setPattern("%msg%n");
    encoder.start();
    OutputStreamAppender<ILoggingEvent> appender;
    if (config.target() == AccessLogConfig.Target.FILE) {
      FileAppender<ILoggingEvent> file = new FileAppender<>();
      file.setFile(config.file().orElseThrow().toString());
      file.setAppend(true);
      appender = file;
    } else {
      ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
      console.setTarget(
          config.target() == AccessLogConfig.Target.STDERR ? "System.err" : "System.out");
      appender = console;
    }
    appender.setContext(context);
    appender.setName("tollgate-access-" + accessLog.marker().getName());
    appender.setEncoder(encoder);
    appender.addFilter(new OwnLines(accessLog));
    appender.start();
    AccessLogOutput output = new AccessLogOutput(config, appender);
    synchronized (OPEN) {
      ch.qos.logback.classic.Logger logger = context.getLogger(AccessLog.LOGGER);
      logger.setAdditive(false);
      logger.setLevel(Level.INFO);
      logger.addAppender(appender);
      OPEN.add(output);
    }
    if (config.target() == AccessLogConfig.Target.FILE) {
      installReopenSignal();
    }
    return output;
  }

  /**
   * The output for a new config: this one if nothing changed, else a new one (this one is closed
   * after the new one took over, so no line is lost).
   */
  public AccessLogOutput reconfigure(AccessLogConfig next, AccessLog accessLog) {
    if (next.equals(config)) {
      return this;
    }
    AccessLogOutput replacement = start(next, accessLog);
    close();
    return replacement;
  }

  /** Reopens the file (after rotation); false for console and off. */
  public boolean reopen() {
    if (!(appender instanceof FileAppender<ILoggingEvent> file) || !file.isStarted()) {
      return false;
    }
    try {
      file.openFile(file.getFile());
      return true;
    } catch (IOException e) {
      log.error(
          "access log: cannot reopen {}: {} (lines are lost until it can be)",
          file.getFile(),
          e.toString());
      return false;
    }
  }

  /** Reopens every access log file of this process; what SIGUSR1 does. */
  public static int reopenAll() {
    int n = 0;
    for (AccessLogOutput o : OPEN) {
      if (o.reopen()) {
        n++;
      }
    }
    return n;
  }

  @Override
  public void close() {
    if (appender == null) {
      return;
    }
    synchronized (OPEN) {
      if (!OPEN.remove(this)) {
        return;
      }
      if (LoggerFactory.getILoggerFactory() instanceof LoggerContext context) {
        ch.qos.logback.classic.Logger logger = context.getLogger(AccessLog.LOGGER);
        logger.detachAppender(appender);
        if (OPEN.isEmpty()) {
          logger.setLevel(null); // back to the configured (by default: off)
          logger.setAdditive(true);
        }
      }
    }
    appender.stop();
  }

  /**
   * SIGUSR1 reopens the access log files. Through reflection because sun.misc.Signal is a JDK
   * internal API (jdk.unsupported) that javac warns about; where it is missing, rotation needs a
   * restart or copytruncate and the startup log says so.
   */
  private static void installReopenSignal() {
    if (!SIGNAL_INSTALLED.compareAndSet(false, true)) {
      return;
    }
    try {
      Class<?> signalClass = Class.forName("sun.misc.Signal");
      Class<?> handlerClass = Class.forName("sun.misc.SignalHandler");
      Object signal = signalClass.getConstructor(String.class).newInstance("USR1");
      Object handler =
          Proxy.newProxyInstance(
              handlerClass.getClassLoader(),
              new Class<?>[] {handlerClass},
              (proxy, method, args) -> {
                switch (method.getName()) {
                  case "handle" -> {
                    int n = reopenAll();
                    log.info("SIGUSR1: reopened {} access log file(s)", n);
                    return null;
                  }
                  case "hashCode" -> {
                    return System.identityHashCode(proxy);
                  }
                  case "equals" -> {
                    return proxy == args[0];
                  }
                  default -> {
                    return "tollgate access log reopen";
                  }
                }
              });
      signalClass.getMethod("handle", signalClass, handlerClass).invoke(null, signal, handler);
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      log.warn(
          "access log: cannot handle SIGUSR1 here ({}); to rotate, use copytruncate or"
              + " restart",
          e.toString());
    }
  }

  /** Lets through only the lines of one Tollgate. */
  private static final class OwnLines extends Filter<ILoggingEvent> {
    private final AccessLog accessLog;

    OwnLines(AccessLog accessLog) {
      this.accessLog = accessLog;
      start();
    }

    @Override
    public FilterReply decide(ILoggingEvent event) {
      var markers = event.getMarkerList();
      return markers != null && markers.contains(accessLog.marker())
          ? FilterReply.NEUTRAL
          : FilterReply.DENY;
    }
  }
}
