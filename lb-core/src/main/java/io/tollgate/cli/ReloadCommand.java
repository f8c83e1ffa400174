package io.tollgate.cli;

import io.tollgate.admin.AdminServer;
import io.tollgate.config.AdminConfig;
import io.tollgate.config.TollgateConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code tollgate reload}: asks a running Tollgate to re-read its config. With {@code --config},
 * the file is checked here first (errors print and nothing is sent), then, if it configures an
 * admin endpoint, {@code POST /reload} is sent there, which answers with the outcome. Without an
 * admin endpoint, or when it cannot be reached, SIGHUP goes to the pid in {@code --pid-file} (the
 * outcome is then only in Tollgate's log).
 */
@Command(
    name = "reload",
    mixinStandardHelpOptions = true,
    description = {
      "Make a running Tollgate re-read its config file and certificates. Open connections are",
      "not touched. Uses POST /reload on the admin endpoint named in --config (and prints the",
      "result), else sends SIGHUP to the pid in --pid-file (the result is then in the log).",
      "Exit 0: reloaded (or signal sent); 1: rejected or not reachable."
    })
final class ReloadCommand implements Callable<Integer> {
  @Option(
      names = {"-c", "--config"},
      paramLabel = "FILE",
      description =
          "The config file Tollgate runs with: checked first, and its admin address"
              + " and token-file are used.")
  Path configFile;

  @Option(
      names = "--pid-file",
      paramLabel = "FILE",
      description = "The file `tollgate run --pid-file` wrote, for SIGHUP.")
  Path pidFile;

  @Option(
      names = "--timeout",
      paramLabel = "SECONDS",
      defaultValue = "60",
      description = "How long to wait for the admin endpoint's answer (default ${DEFAULT-VALUE}).")
  int timeoutSeconds;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws InterruptedException {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (configFile == null && pidFile == null) {
      err.println("reload: give --config FILE (admin endpoint) and/or --pid-file FILE (SIGHUP)");
      err.flush();
      return 2;
    }
    Optional<AdminConfig> admin = Optional.empty();
    if (configFile != null) {
      ConfigOption option = new ConfigOption();
      option.file = configFile;
      TollgateConfig cfg = option.loadOrReport(err);
      if (cfg == null) {
        err.println(
            "not reloading: fix the errors above; Tollgate keeps running the config it" + " has");
        err.flush();
        return 1;
      }
      admin = cfg.ops().admin();
    }
    if (admin.isPresent()) {
      Integer done = viaAdmin(admin.get(), out, err);
      if (done != null) {
        return done;
      }
    }
    if (pidFile == null) {
      err.println(
          admin.isPresent()
              ? "reload: the admin endpoint cannot be reached, and no --pid-file was given"
              : "reload: "
                  + configFile
                  + " has no admin endpoint (admin { address = ... }); give"
                  + " --pid-file FILE to send SIGHUP instead");
      err.flush();
      return 1;
    }
    return viaSignal(out, err);
  }

  /** The exit code, or null when the endpoint cannot be reached (try the signal). */
  private Integer viaAdmin(AdminConfig admin, PrintWriter out, PrintWriter err)
      throws InterruptedException {
    String host = admin.address().host();
    // A wildcard listen address is reached over loopback.
    if (host.equals("0.0.0.0")) {
      host = "127.0.0.1";
    } else if (host.equals("::") || host.equals("0:0:0:0:0:0:0:0")) {
      host = "::1";
    }
    String authority = host.indexOf(':') >= 0 ? "[" + host + "]" : host;
    URI uri = URI.create("http://" + authority + ":" + admin.address().port() + "/reload");
    HttpRequest.Builder request =
        HttpRequest.newBuilder(uri)
            .timeout(Duration.ofSeconds(timeoutSeconds))
            // Without a token the endpoint wants this header on every POST (no web page can send
            // it).
            .header(AdminServer.CSRF_HEADER, "1")
            .POST(HttpRequest.BodyPublishers.noBody());
    if (admin.tokenFile().isPresent()) {
      try {
        request.header("Authorization", "Bearer " + AdminServer.readToken(admin.tokenFile().get()));
      } catch (IllegalStateException e) {
        err.println("reload: " + e.getMessage());
        err.flush();
        return 1;
      }
    }
    HttpResponse<String> response;
    try {
      response =
          HttpClient.newBuilder()
              .connectTimeout(Duration.ofSeconds(5))
              .build()
              .send(request.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      err.println("reload: cannot reach the admin endpoint " + uri + ": " + e);
      err.flush();
      return null;
    }
    String body = response.body().strip();
    if (response.statusCode() == 200) {
      out.println("reloaded: " + body);
      out.flush();
      return 0;
    }
    err.println(
        "reload "
            + (response.statusCode() == 422 ? "rejected" : "failed")
            + " (HTTP "
            + response.statusCode()
            + "): "
            + body);
    err.flush();
    return 1;
  }

  private int viaSignal(PrintWriter out, PrintWriter err) throws InterruptedException {
    long pid;
    try {
      pid = Long.parseLong(Files.readString(pidFile, StandardCharsets.UTF_8).strip());
    } catch (IOException | NumberFormatException e) {
      err.println("reload: cannot read a pid from " + pidFile + ": " + e.getMessage());
      err.flush();
      return 1;
    }
    if (!ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
      err.println("reload: no process " + pid + " (from " + pidFile + "): is Tollgate running?");
      err.flush();
      return 1;
    }
    int exit;
    try {
      Process kill =
          new ProcessBuilder("kill", "-HUP", Long.toString(pid)).redirectErrorStream(true).start();
      String output = new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!kill.waitFor(10, TimeUnit.SECONDS)) {
        kill.destroyForcibly();
        exit = -1;
      } else {
        exit = kill.exitValue();
      }
      if (exit != 0) {
        err.println("reload: kill -HUP " + pid + " failed: " + output.strip());
        err.flush();
        return 1;
      }
    } catch (IOException e) {
      err.println("reload: cannot run kill: " + e.getMessage());
      err.flush();
      return 1;
    }
    out.println(
        "sent SIGHUP to "
            + pid
            + "; Tollgate's log says whether the new config was"
            + " accepted (\"Reloaded ...\" or \"Reload rejected ...\")");
    out.flush();
    return 0;
  }
}
