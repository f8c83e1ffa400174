package io.tollgate.cli;

import io.tollgate.config.RouteConfig;
import io.tollgate.config.RouteMode;
import io.tollgate.config.TollgateConfig;
import io.tollgate.pool.Backend;
import io.tollgate.route.Route;
import io.tollgate.route.Router;
import io.tollgate.snapshot.Snapshot;
import io.tollgate.tls.CertifiedKey;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code tollgate explain --config FILE --sni NAME [--alpn h2]}: which route, mode, pool and
 * certificate a connection would get, and why. Uses the same router and TLS material as {@code
 * run}, built from the file (backend names resolved, certificates read).
 */
@Command(
    name = "explain",
    mixinStandardHelpOptions = true,
    description = {
      "Show which route, mode, pool and certificate a connection with this SNI (and ALPN)",
      "would get from a config file, and why: exact name, wildcard, default route or reject."
    })
final class ExplainCommand implements Callable<Integer> {
  @Mixin ConfigOption config;

  @Option(
      names = "--sni",
      paramLabel = "NAME",
      description = "The server name the client sends; leave out for a client without SNI.")
  String sni;

  @Option(
      names = "--alpn",
      paramLabel = "PROTOCOL",
      split = ",",
      description =
          "ALPN protocols the client offers, in its order (repeat or separate with"
              + " commas), e.g. --alpn h2,http/1.1.")
  List<String> alpn = new ArrayList<>();

  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    Snapshot snapshot = config.buildOrReport(err);
    if (snapshot == null) {
      return 1;
    }
    TollgateConfig cfg = snapshot.config();
    String name = normalise(sni);
    out.printf(
        "connection: SNI %s, ALPN %s%n",
        name == null
            ? "none"
                + (sni != null && !sni.isBlank()
                    ? " (\"" + sni + "\" is an IP address, which SNI never carries)"
                    : "")
            : name,
        alpn.isEmpty() ? "none" : String.join(", ", alpn));
    Router.Match match = snapshot.router().route(name, alpn);
    Route route = match.route();
    switch (match.kind()) {
      case EXACT ->
          out.printf("route:      %s (exact name \"%s\")%n", route.name(), match.pattern());
      case WILDCARD ->
          out.printf(
              "route:      %s (wildcard \"%s\": no exact name matches, and it"
                  + " is the longest wildcard that does)%n",
              route.name(), match.pattern());
      case DEFAULT ->
          out.printf(
              "route:      default-route (%s)%n",
              name == null
                  ? "the client sends no SNI"
                  : "no route has \"" + name + "\" or a wildcard covering it");
      case REJECT -> {
        out.printf(
            "route:      none: rejected (%s, and default-route = reject)%n",
            name == null
                ? "the client sends no SNI"
                : "no route has \"" + name + "\" or a wildcard covering it");
        out.println(
            "outcome:    the client gets a TLS unrecognized_name alert; close reason"
                + " no_route");
        out.flush();
        return 0;
      }
      default -> throw new IllegalStateException(match.kind().name());
    }
    out.printf("mode:       %s%n", describe(route.mode()));
    List<String> servers = route.pool().servers().stream().map(ExplainCommand::server).toList();
    out.printf(
        "pool:       %s (%s; %s)%n",
        route.pool().name(),
        route.pool().balance().algorithm().name().toLowerCase(Locale.ROOT).replace('_', '-'),
        String.join(", ", servers));
    if (route.mode().terminatesTls()) {
      explainTls(out, cfg, route, name);
    }
    out.flush();
    return 0;
  }

  private void explainTls(PrintWriter out, TollgateConfig cfg, Route route, String name) {
    CertifiedKey ecdsa = route.serverTls().certificateFor(name, true);
    CertifiedKey rsa = route.serverTls().certificateFor(name, false);
    if (ecdsa == null && rsa == null) {
      out.printf(
          "certificate: none covers \"%s\" in the certificate store: the client gets"
              + " unrecognized_name; close reason no_route%n",
          name);
      return;
    }
    if (ecdsa == rsa) {
      out.printf("certificate: %s%n", certificate(ecdsa));
      out.printf(
          "             the same for every client (the route has no %s certificate)%n",
          ecdsa.kind().name().equals("ECDSA") ? "RSA" : "ECDSA");
    } else {
      out.printf("certificate: clients that support ECDSA (nearly all): %s%n", certificate(ecdsa));
      out.printf("             clients that support only RSA: %s%n", certificate(rsa));
    }
    Optional<RouteConfig> rc =
        cfg.routes().stream().filter(r -> r.name().equals(route.name())).findFirst();
    List<String> offered = rc.flatMap(RouteConfig::tls).map(t -> t.alpn()).orElse(List.of());
    if (offered.isEmpty()) {
      out.println("alpn:       the route offers none");
    } else if (alpn.isEmpty()) {
      out.printf(
          "alpn:       the route offers %s; the client offers none, so none is" + " negotiated%n",
          offered);
    } else {
      Optional<String> chosen = offered.stream().filter(alpn::contains).findFirst();
      out.printf(
          "alpn:       the route offers %s: %s%n",
          offered,
          chosen
              .map(p -> p + " is negotiated (the route's first choice the client offers)")
              .orElse("nothing in common, so none is negotiated (the handshake goes on without)"));
    }
  }

  private static String certificate(CertifiedKey k) {
    java.time.Instant now = java.time.Instant.now();
    String validity =
        k.validAt(now)
            ? "valid until " + k.notAfter()
            : k.notAfter().isBefore(now)
                ? "EXPIRED on " + k.notAfter() + ": clients refuse it, renew it"
                : "NOT VALID YET (a certificate of the chain starts later): clients refuse it";
    return k.chainFile()
        + " ["
        + k.kind()
        + ", subject "
        + k.subject()
        + ", names "
        + k.dnsNames()
        + ", "
        + validity
        + "]";
  }

  private static String server(Backend b) {
    String s = b.configured().toString();
    return b.weight() == 1 ? s : s + " weight " + b.weight();
  }

  private static String describe(RouteMode mode) {
    return switch (mode) {
      case PASSTHROUGH ->
          "passthrough (the encrypted bytes go to the server unchanged; Tollgate"
              + " holds no key)";
      case OFFLOAD ->
          "offload (Tollgate completes TLS with the certificate below and sends"
              + " plaintext to the server)";
      case REENCRYPT ->
          "reencrypt (Tollgate completes TLS with the certificate below and opens"
              + " a new, verified TLS connection to the server)";
    };
  }

  /** As the ClientHello parser does: lower case, no trailing dot; IP literals count as none. */
  static String normalise(String sni) {
    if (sni == null || sni.isBlank()) {
      return null;
    }
    String s = sni.trim().toLowerCase(Locale.ROOT);
    if (s.endsWith(".")) {
      s = s.substring(0, s.length() - 1);
    }
    if (s.matches("[0-9.]+") || s.indexOf(':') >= 0) {
      return null;
    }
    return s;
  }
}
