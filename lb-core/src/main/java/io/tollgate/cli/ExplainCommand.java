package io.tollgate.cli;

import io.tollgate.config.DefaultRoute;
import io.tollgate.config.ListenerConfig;
import io.tollgate.config.ListenerProtocol;
import io.tollgate.config.RouteConfig;
import io.tollgate.config.RouteMode;
import io.tollgate.config.ServerTlsConfig;
import io.tollgate.config.TollgateConfig;
import io.tollgate.pool.Backend;
import io.tollgate.route.Route;
import io.tollgate.route.Router;
import io.tollgate.snapshot.ListenerSettings;
import io.tollgate.snapshot.Snapshot;
import io.tollgate.tls.CertifiedKey;
import io.tollgate.tls.TlsMaterial;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code tollgate explain --config FILE --sni NAME [--alpn h2] [--listener NAME] [--client IP]}:
 * which route, mode, pool and certificate a connection would get, and why; with {@code --client},
 * whether the listener's and route's access rules let that client through. Uses the same router,
 * listener default routes and TLS material as {@code run}, built from the file (backend names
 * resolved, certificates read), and routes on each TLS listener as the data path does there, so
 * routes restricted to other listeners are passed over.
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

  @Option(
      names = "--listener",
      paramLabel = "NAME",
      description =
          "Answer for this TLS listener only; default: every TLS listener, one answer per"
              + " group of listeners that answer alike (routes[].listeners and"
              + " listeners[].default-route make them differ).")
  String listener;

  @Option(
      names = "--client",
      paramLabel = "ADDRESS",
      description =
          "The client's IP address (as a PROXY header would set it): says whether the"
              + " listener's and the route's allow-from / deny-from let it through.")
  String client;

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
    List<ListenerConfig> tlsListeners =
        cfg.listeners().stream().filter(l -> l.protocol() == ListenerProtocol.TLS).toList();
    if (listener != null) {
      String problem = listenerProblem(cfg, tlsListeners);
      if (problem != null) {
        err.println(problem);
        err.flush();
        return 2;
      }
    }
    java.net.InetSocketAddress clientAddress = null;
    if (client != null) {
      java.util.Optional<io.tollgate.config.Cidr> ip = io.tollgate.config.Cidr.parse(client.trim());
      if (ip.isEmpty() || ip.get().prefix() != ip.get().network().length * 8) {
        err.println(
            "--client " + client + ": expected an IP address, e.g. 192.0.2.7 or 2001:db8::7");
        err.flush();
        return 2;
      }
      try {
        clientAddress =
            new java.net.InetSocketAddress(
                java.net.InetAddress.getByAddress(ip.get().network()), 0);
      } catch (java.net.UnknownHostException e) {
        throw new IllegalStateException(e); // a 4- or 16-byte address is always one
      }
    }
    this.clientAddress = clientAddress;
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
    // Every route, as if none were restricted to listeners: what a listener may pass over.
    Router.Match everywhere = snapshot.router().route(name, alpn);
    List<String> names =
        listener != null
            ? List.of(listener)
            : tlsListeners.stream().map(ListenerConfig::name).toList();
    if (names.isEmpty()) {
      out.print(answer(cfg, null, everywhere, everywhere, name));
      out.flush();
      return 0;
    }
    // Listeners whose answer reads the same are shown together.
    Map<String, List<String>> byAnswer = new LinkedHashMap<>();
    for (String l : names) {
      ListenerSettings ls = snapshot.listener(l);
      Router.Match match = snapshot.router().route(name, alpn, ls.index(), ls.fallback());
      byAnswer
          .computeIfAbsent(
              answer(cfg, listenerConfig(cfg, l), match, everywhere, name), k -> new ArrayList<>())
          .add(l);
    }
    if (byAnswer.size() == 1) {
      Map.Entry<String, List<String>> only = byAnswer.entrySet().iterator().next();
      out.printf(
          only.getValue().size() == 1 ? "listener:   %s%n" : "listeners:  %s (the same on each)%n",
          String.join(", ", only.getValue()));
      out.print(only.getKey());
    } else {
      out.println("listeners:  the answer differs by listener");
      byAnswer.forEach(
          (text, ls) -> {
            out.println();
            out.printf("on listener%s %s:%n", ls.size() == 1 ? "" : "s", String.join(", ", ls));
            out.print(text);
          });
    }
    out.flush();
    return 0;
  }

  private java.net.InetSocketAddress clientAddress;

  private static ListenerConfig listenerConfig(TollgateConfig cfg, String name) {
    return cfg.listeners().stream().filter(l -> l.name().equals(name)).findFirst().orElseThrow();
  }

  /** The routes[].listeners of the route named {@code routeName}. */
  private static String listenersOf(TollgateConfig cfg, String routeName) {
    return cfg.routes().stream()
        .filter(r -> r.name().equals(routeName))
        .findFirst()
        .map(r -> String.join(", ", r.listeners()))
        .orElse("?");
  }

  /** The listener whose own default route this is ({@code default@LISTENER}), or null. */
  private static String defaultRouteOwner(String routeName) {
    String prefix = TlsMaterial.DEFAULT_ROUTE + "@";
    return routeName.startsWith(prefix) ? routeName.substring(prefix.length()) : null;
  }

  /** Why {@code --listener} names no TLS listener of the config, or null when it does. */
  private String listenerProblem(TollgateConfig cfg, List<ListenerConfig> tlsListeners) {
    String known =
        tlsListeners.isEmpty()
            ? "it has none"
            : "its TLS listeners: "
                + String.join(", ", tlsListeners.stream().map(ListenerConfig::name).toList());
    for (ListenerConfig lc : cfg.listeners()) {
      if (lc.name().equals(listener)) {
        return lc.protocol() == ListenerProtocol.TLS
            ? null
            : "listener "
                + listener
                + " is an http listener: it routes a request's Host, not SNI; explain answers"
                + " for TLS listeners ("
                + known
                + ")";
      }
    }
    return "no listener " + listener + " in " + config.file + " (" + known + ")";
  }

  /** What a connection gets from {@code match}, as the lines explain prints. */
  private String answer(
      TollgateConfig cfg,
      ListenerConfig lc,
      Router.Match match,
      Router.Match everywhere,
      String name) {
    StringWriter text = new StringWriter();
    PrintWriter out = new PrintWriter(text);
    if (lc != null && !lc.access().isEmpty()) {
      out.printf("listener access: %s%n", rules(lc.access()));
      if (clientAddress != null
          && !io.tollgate.route.SourceFilter.of(lc.access()).admits(clientAddress)) {
        out.printf(
            "outcome:    client %s is refused by listener %s's rules before its hello is read"
                + " (the connection is closed; close reason denied)%n",
            clientAddress.getAddress().getHostAddress(), lc.name());
        out.flush();
        return text.toString();
      }
    }
    Route route = match.route();
    Route passedOver = everywhere.pattern() != null ? everywhere.route() : null;
    if (passedOver != null && passedOver != route) {
      out.printf(
          "passed over: route %s (\"%s\"), which applies only on listeners %s%n",
          passedOver.name(), everywhere.pattern(), listenersOf(cfg, passedOver.name()));
    }
    String unmatched =
        name == null
            ? "the client sends no SNI"
            : (lc == null || cfg.routes().stream().allMatch(r -> r.listeners().isEmpty())
                    ? "no route has \""
                    : "no route on listener " + lc.name() + " has \"")
                + name
                + "\" or a wildcard covering it";
    switch (match.kind()) {
      case EXACT ->
          out.printf("route:      %s (exact name \"%s\")%n", route.name(), match.pattern());
      case WILDCARD ->
          out.printf(
              "route:      %s (wildcard \"%s\": no exact name matches, and it"
                  + " is the longest wildcard that does)%n",
              route.name(), match.pattern());
      case DEFAULT -> {
        String owner = defaultRouteOwner(route.name());
        out.printf(
            "route:      %s (%s)%n",
            owner == null ? "default-route" : "default-route of listener " + owner, unmatched);
      }
      case REJECT -> {
        out.printf(
            "route:      none: rejected (%s, and %s = reject)%n",
            unmatched,
            lc != null && lc.defaultRoute().isPresent()
                ? "listener " + lc.name() + "'s default-route"
                : "default-route");
        out.println(
            "outcome:    the client gets a TLS unrecognized_name alert; close reason"
                + " no_route");
        out.flush();
        return text.toString();
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
    RouteConfig routeConfig =
        cfg.routes().stream().filter(r -> r.name().equals(route.name())).findFirst().orElse(null);
    if (routeConfig != null && !routeConfig.access().isEmpty()) {
      out.printf("access:     %s%n", rules(routeConfig.access()));
    }
    if (clientAddress != null && route.access() != null && !route.access().admits(clientAddress)) {
      out.printf(
          "outcome:    client %s is refused by the route's rules: a TLS access_denied alert"
              + " right after its hello, nothing else; close reason denied%n",
          clientAddress.getAddress().getHostAddress());
      out.flush();
      return text.toString();
    }
    if (clientAddress != null) {
      out.printf(
          "client:     %s may connect (%s)%n",
          clientAddress.getAddress().getHostAddress(),
          (lc == null || lc.access().isEmpty()) && route.access() == null
              ? "no access rules apply"
              : "admitted by the rules above");
    }
    if (route.mode().terminatesTls()) {
      explainTls(out, cfg, route, name);
    }
    out.flush();
    return text.toString();
  }

  /** allow-from / deny-from as the config writes them. */
  private static String rules(io.tollgate.config.AccessRules rules) {
    List<String> parts = new ArrayList<>();
    if (!rules.allowFrom().isEmpty()) {
      parts.add(
          "allow-from "
              + rules.allowFrom().stream().map(io.tollgate.config.Cidr::text).toList()
              + " (no one else)");
    }
    if (!rules.denyFrom().isEmpty()) {
      parts.add(
          "deny-from "
              + rules.denyFrom().stream().map(io.tollgate.config.Cidr::text).toList()
              + (rules.allowFrom().isEmpty() ? "" : " (deny wins)"));
    }
    return String.join("; ", parts);
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
    Optional<ServerTlsConfig> routeTls =
        cfg.routes().stream()
            .filter(r -> r.name().equals(route.name()))
            .findFirst()
            .flatMap(RouteConfig::tls)
            .or(
                () ->
                    Optional.ofNullable(TlsMaterial.defaultRoutes(cfg).get(route.name()))
                        .flatMap(DefaultRoute::tls));
    List<String> offered = routeTls.map(ServerTlsConfig::alpn).orElse(List.of());
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
