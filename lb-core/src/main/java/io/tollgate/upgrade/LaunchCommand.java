package io.tollgate.upgrade;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * How to start this process again: the same {@code java} binary, JVM options and class path, the
 * same main class, {@code run} with the same config and pid file (absolute, so the working
 * directory does not matter). Recorded at start, because that is what the operator chose; a new jar
 * or JDK installed at the same paths is what an upgrade then runs.
 *
 * @param command everything before the hand-off option
 */
public record LaunchCommand(List<String> command) {
  public static final String INHERIT_OPTION = "--inherit-from";

  public LaunchCommand {
    command = List.copyOf(command);
  }

  /**
   * @param mainClass the class whose {@code main} parses {@code run ...}
   * @param configFile what {@code run --config} was given
   * @param pidFile what {@code run --pid-file} was given, or null
   */
  public static LaunchCommand ofThisProcess(Class<?> mainClass, Path configFile, Path pidFile) {
    List<String> cmd = new ArrayList<>();
    cmd.add(
        ProcessHandle.current()
            .info()
            .command()
            .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(mainClass.getName());
    cmd.add("run");
    cmd.add("--config");
    cmd.add(configFile.toAbsolutePath().toString());
    if (pidFile != null) {
      cmd.add("--pid-file");
      cmd.add(pidFile.toAbsolutePath().toString());
    }
    return new LaunchCommand(cmd);
  }

  /** The command for the successor, which takes the sockets over from {@code socket}. */
  List<String> withInheritFrom(Path socket) {
    List<String> cmd = new ArrayList<>(command);
    cmd.add(INHERIT_OPTION);
    cmd.add(socket.toString());
    return cmd;
  }
}
