package io.tollgate.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the runnable jar: {@code tollgate run|check|reload|upgrade|explain|demo}. */
@Command(
    name = "tollgate",
    mixinStandardHelpOptions = true,
    versionProvider = Version.class,
    description = "Edge load balancer for TLS: routes by SNI without terminating TLS.",
    subcommands = {
      RunCommand.class,
      CheckCommand.class,
      ReloadCommand.class,
      UpgradeCommand.class,
      ExplainCommand.class,
      DemoCommand.class,
      CommandLine.HelpCommand.class
    })
public final class TollgateCli {

  public static void main(String[] args) {
    // Before anything can start a JDK TLS server (the demo's backends too): the JDK reads it once.
    io.tollgate.tls.TlsProvider.rejectClientRenegotiation();
    System.exit(commandLine().execute(args));
  }

  /** The parser with Tollgate's conventions; tests run commands through it. */
  public static CommandLine commandLine() {
    return new CommandLine(new TollgateCli()).setCaseInsensitiveEnumValuesAllowed(true);
  }
}
