package io.tollgate.cli;

import io.tollgate.Tollgate;
import io.tollgate.config.ConfigLoader;
import io.tollgate.config.IoConfig;
import io.tollgate.config.TollgateConfig;
import io.tollgate.demo.DemoBackend;
import io.tollgate.pki.CertificateAuthority;
import io.tollgate.pki.CertificateAuthority.KeyType;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code tollgate demo}: everything needed to see SNI passthrough work, in one process. A throwaway
 * CA issues one certificate per demo backend; each backend is a real HTTPS server holding its own
 * key; Tollgate holds none and routes by SNI. The printed curl commands verify the backend's
 * certificate through Tollgate, which is what end-to-end encryption means.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
      "Start two demo HTTPS backends with throwaway certificates and Tollgate in front of them,",
      "and print curl commands that show SNI routing. Ctrl-C stops everything."
    })
final class DemoCommand implements Callable<Integer> {
  @Option(
      names = "--port",
      defaultValue = "8443",
      description =
          "Port for Tollgate on 127.0.0.1 (default ${DEFAULT-VALUE}; 0 picks a free one).")
  int port;

  @Option(
      names = "--dir",
      paramLabel = "DIR",
      description =
          "Where to write the demo CA, certificates and config "
              + "(default: a new temporary directory, deleted on exit).")
  Path dir;

  @Option(
      names = "--nio",
      description = "Use the JDK's NIO transport even where epoll is available.")
  boolean nio;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    boolean temporary = dir == null;
    Path work =
        temporary ? Files.createTempDirectory("tollgate-demo-") : Files.createDirectories(dir);

    CertificateAuthority ca = CertificateAuthority.create("Tollgate Demo CA", KeyType.EC_P256);
    Path caFile = ca.writeCertificatePem(work.resolve("ca.pem"));
    InetSocketAddress loopback = new InetSocketAddress("127.0.0.1", 0);
    DemoBackend alpha =
        new DemoBackend("alpha", loopback, ca.issue(KeyType.EC_P256, "alpha.test")).start();
    DemoBackend beta =
        new DemoBackend("beta", loopback, ca.issue(KeyType.RSA_2048, "beta.test", "*.beta.test"))
            .start();
    // gamma: Tollgate terminates TLS with its own certificate; the backend speaks plain HTTP.
    ca.issue(KeyType.EC_P256, "gamma.test").writePem(work, "gamma");
    DemoBackend gamma = DemoBackend.plain("gamma", loopback).start();

    String hocon =
        String.format(
            """
        # Written by `tollgate demo`: the config the demo runs with.
        tollgate {
          listeners = [ { name = demo, address = "127.0.0.1:%d" } ]
          # The demo CA is a private root: chains issued by it end there.
          certificates { trusted-roots = "ca.pem" }
          routes = [
            { hosts = ["alpha.test"], mode = passthrough, pool = alpha }
            { hosts = ["beta.test", "*.beta.test"], mode = passthrough, pool = beta }
            { hosts = ["gamma.test"], mode = offload, pool = gamma,
              certificate { chain = "gamma.pem", key = "gamma.key" } }
          ]
          default-route = reject
          pools {
            alpha { servers = ["127.0.0.1:%d"] }
            beta { servers = ["127.0.0.1:%d"] }
            gamma { servers = ["127.0.0.1:%d"] }
          }
        }
        """,
            port, alpha.port(), beta.port(), gamma.port());
    Path configFile = work.resolve("tollgate.conf");
    Files.writeString(configFile, hocon, StandardCharsets.UTF_8);
    TollgateConfig config = ConfigLoader.load(configFile);

    Tollgate tollgate;
    try {
      tollgate = Tollgate.start(config, nio ? IoConfig.Transport.NIO : config.io().transport());
    } catch (IllegalStateException e) {
      alpha.close();
      beta.close();
      gamma.close();
      spec.commandLine()
          .getErr()
          .println("demo: " + e.getMessage() + " (is another Tollgate running? try --port 0)");
      spec.commandLine().getErr().flush();
      return 1;
    }
    int bound = tollgate.address("demo").getPort();
    out.printf(
        "%nTollgate demo: listening on 127.0.0.1:%d (transport %s), routing by SNI.%n",
        bound, tollgate.transportName());
    out.printf(
        "  backend alpha: https://127.0.0.1:%d with its own certificate for alpha.test%n",
        alpha.port());
    out.printf(
        "  backend beta:  https://127.0.0.1:%d with its own certificate for beta.test, *.beta.test%n",
        beta.port());
    out.printf(
        "  backend gamma: http://127.0.0.1:%d, plain HTTP; Tollgate offloads TLS for gamma.test%n",
        gamma.port());
    out.printf(
        "For alpha and beta Tollgate holds no key: the client verifies each backend's "
            + "certificate%nagainst the demo CA, through Tollgate (passthrough).%n%nTry:%n");
    for (String name : new String[] {"alpha.test", "beta.test", "www.beta.test"}) {
      out.println("  " + curl(name, bound, caFile));
    }
    out.printf(
        "and offload: Tollgate answers with its own certificate for gamma.test and sends "
            + "plaintext on%n  %s%n",
        curl("gamma.test", bound, caFile));
    out.printf(
        "and a name with no route, which Tollgate refuses (unrecognized_name):%n  %s%n",
        curl("nobody.test", bound, caFile));
    out.printf(
        "%nDemo files (CA, config): %s%s%nPress Ctrl-C to stop.%n",
        work, temporary ? " (deleted on exit)" : "");
    out.flush();

    RunCommand.awaitShutdown(
        tollgate,
        alpha,
        beta,
        gamma,
        () -> {
          if (temporary) {
            deleteTree(work);
          }
        });
    return 0;
  }

  private static String curl(String name, int port, Path caFile) {
    return String.format(
        "curl --resolve %s:%d:127.0.0.1 --cacert %s https://%s:%d/",
        name, port, caFile, name, port);
  }

  private static void deleteTree(Path root) throws IOException {
    try (Stream<Path> files = Files.walk(root)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
