package io.tollgate.config;

/**
 * An enum constant whose config spelling is not its name in lower case with dashes: {@code
 * io.transport = io_uring} is the kernel interface's own name, which operators search for.
 */
public interface NamedInConfig {
  /** How the config file spells this value. */
  String configName();
}
