package io.tollgate.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetector.Level;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code tollgate run} turns Netty's leak tracking off unless the JVM property asks for a level.
 */
class LeakDetectionDefaultTest {
  private String property;
  private Level level;

  @BeforeEach
  void remember() {
    property = System.getProperty(RunCommand.LEAK_DETECTION_PROPERTY);
    level = ResourceLeakDetector.getLevel();
  }

  @AfterEach
  void restore() {
    if (property == null) {
      System.clearProperty(RunCommand.LEAK_DETECTION_PROPERTY);
    } else {
      System.setProperty(RunCommand.LEAK_DETECTION_PROPERTY, property);
    }
    ResourceLeakDetector.setLevel(level);
  }

  @Test
  void offWhenThePropertyIsUnset() {
    System.clearProperty(RunCommand.LEAK_DETECTION_PROPERTY);
    ResourceLeakDetector.setLevel(Level.SIMPLE); // Netty's own default

    RunCommand.leakDetectionOffUnlessAsked();

    assertEquals(Level.DISABLED, ResourceLeakDetector.getLevel());
  }

  @Test
  void theOperatorsLevelWins() {
    System.setProperty(RunCommand.LEAK_DETECTION_PROPERTY, "simple");
    ResourceLeakDetector.setLevel(Level.SIMPLE);

    RunCommand.leakDetectionOffUnlessAsked();

    assertEquals(Level.SIMPLE, ResourceLeakDetector.getLevel());
  }
}
