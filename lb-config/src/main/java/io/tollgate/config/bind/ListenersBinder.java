package io.tollgate.config.bind;

import com.typesafe.config.ConfigValueType;
import io.tollgate.config.AccessRules;
import io.tollgate.config.DefaultRoute;
import io.tollgate.config.HostPort;
import io.tollgate.config.HttpAction;
import io.tollgate.config.IoConfig;
import io.tollgate.config.Limits;
import io.tollgate.config.ListenerConfig;
import io.tollgate.config.ListenerProtocol;
import io.tollgate.config.UpstreamProxyProtocol;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;

/** Binds {@code tollgate.listeners}: at least one, unique names, unique addresses. */
final class ListenersBinder {
  /** Names show up in logs and metric labels, so keep them to a safe alphabet. */
  static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]*");

  private ListenersBinder() {}

  /**
   * @param transport {@code io.transport} when it is valid: with {@code nio}, {@code reuse-port}
   *     and {@code freebind} are errors here rather than at start
   * @param defaultRoutes binds a listener's {@code default-route} (as the top-level one)
   */
  static Optional<List<ListenerConfig>> bind(
      Node node,
      Optional<IoConfig.Transport> transport,
      Function<Node, Optional<DefaultRoute>> defaultRoutes) {
    Optional<List<Node>> elements = Readers.list(node, Schema.LISTENERS);
    if (elements.isEmpty()) {
      return Optional.empty();
    }
    if (elements.get().isEmpty()) {
      node.error(
          "no listeners (expected "
              + Schema.LISTENERS.expected()
              + "; Tollgate needs at least one address to accept connections on)");
      return Optional.empty();
    }
    List<ListenerConfig> out = new ArrayList<>();
    Map<String, Node> byName = new HashMap<>();
    Map<String, Listener> byAddress = new HashMap<>();
    boolean ok = true;
    for (Node element : elements.get()) {
      Optional<ListenerConfig> listener =
          bindOne(element, byName, byAddress, transport, defaultRoutes);
      ok &= listener.isPresent();
      listener.ifPresent(out::add);
    }
    return ok ? Optional.of(out) : Optional.empty();
  }

  private record Listener(String name, Node node) {}

  private static Optional<ListenerConfig> bindOne(
      Node element,
      Map<String, Node> byName,
      Map<String, Listener> byAddress,
      Optional<IoConfig.Transport> transport,
      Function<Node, Optional<DefaultRoute>> defaultRoutes) {
    Optional<Node> object =
        Readers.object(
            element,
            Schema.LISTENER,
            "a listener such as { name = main, address = \"0.0.0.0:443\" }");
    if (object.isEmpty()) {
      return Optional.empty();
    }
    Node nameNode = element.child(Schema.LISTENER_NAME.name());
    Node addressNode = element.child(Schema.LISTENER_ADDRESS.name());
    Optional<String> name =
        Readers.required(nameNode, Schema.LISTENER_NAME)
            ? Readers.string(nameNode, Schema.LISTENER_NAME).filter(n -> validName(nameNode, n))
            : Optional.empty();
    Optional<HostPort> address =
        Readers.required(addressNode, Schema.LISTENER_ADDRESS)
            ? Addresses.readListen(addressNode, Schema.LISTENER_ADDRESS)
            : Optional.empty();
    if (name.isPresent()) {
      Node first = byName.putIfAbsent(name.get(), element);
      if (first != null) {
        nameNode.error(
            "listener name \""
                + name.get()
                + "\" is already used by "
                + first.path()
                + " (expected a unique name)");
        name = Optional.empty();
      }
    }
    // Port 0 asks the OS for any free port, so two such listeners never share an address.
    if (address.isPresent() && address.get().port() != 0) {
      Listener first =
          byAddress.putIfAbsent(
              Addresses.identity(address.get()), new Listener(name.orElse("?"), element));
      if (first != null) {
        addressNode.error(
            "\""
                + address.get()
                + "\" is already used by listener \""
                + first.name()
                + "\" ("
                + first.node().path()
                + "); two listeners cannot share an"
                + " address");
        address = Optional.empty();
      }
    }
    Optional<UpstreamProxyProtocol> proxy = ProxyProtocolBinder.listener(element);
    Node maxNode = element.child(Schema.CONNECTION_LIMIT.name());
    OptionalInt max =
        maxNode.exists()
            ? Readers.intInRange(maxNode, Schema.CONNECTION_LIMIT, 0, Limits.MAX_MAX_CONNECTIONS)
            : OptionalInt.of(0);
    Optional<Boolean> reusePort = epollOption(element, Schema.LISTENER_REUSE_PORT, transport);
    Optional<Boolean> freebind = epollOption(element, Schema.LISTENER_FREEBIND, transport);
    Optional<ListenerProtocol> protocol = protocol(element);
    Optional<HttpAction> http = protocol.flatMap(p -> httpAction(element, p));
    Node defaultNode = element.child(Schema.DEFAULT_ROUTE.name());
    Optional<Optional<DefaultRoute>> defaultRoute =
        defaultNode.exists()
            ? defaultRoutes.apply(defaultNode).map(Optional::of)
            : Optional.of(Optional.empty());
    Optional<AccessRules> access = AccessBinder.bind(element);
    if (name.isEmpty()
        || address.isEmpty()
        || proxy.isEmpty()
        || max.isEmpty()
        || reusePort.isEmpty()
        || freebind.isEmpty()
        || protocol.isEmpty()
        || http.isEmpty()
        || defaultRoute.isEmpty()
        || access.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(
        new ListenerConfig(
            name.get(),
            address.get(),
            proxy.get(),
            max.getAsInt(),
            reusePort.get(),
            freebind.get(),
            protocol.get(),
            http.get(),
            defaultRoute.get(),
            access.get()));
  }

  /** {@code protocol = tls | http}, tls when absent. */
  private static Optional<ListenerProtocol> protocol(Node element) {
    Node node = element.child(Schema.LISTENER_PROTOCOL.name());
    if (!node.exists()) {
      return Optional.of(ListenerProtocol.TLS);
    }
    return Readers.choice(node, Schema.LISTENER_PROTOCOL, ListenerProtocol.class, "protocol");
  }

  /**
   * {@code http}, the action of an http listener for routes without their own; redirect-https when
   * absent. On a TLS listener it would never be used, so it is an error there.
   */
  static Optional<HttpAction> httpAction(Node element, ListenerProtocol protocol) {
    Node node = element.child(Schema.HTTP_ACTION.name());
    if (!node.exists()) {
      return Optional.of(HttpAction.REDIRECT_HTTPS);
    }
    if (protocol != ListenerProtocol.HTTP) {
      node.error(
          "http applies to plain-HTTP listeners only (expected protocol = http on this listener,"
              + " or no http key)");
      return Optional.empty();
    }
    return Readers.choice(node, Schema.HTTP_ACTION, HttpAction.class, "http action");
  }

  /** Every listener name written as a string, valid or not, for routes' {@code listeners}. */
  static Set<String> names(Node node) {
    Set<String> names = new HashSet<>();
    if (node.exists() && node.type() == ConfigValueType.LIST) {
      for (Node element : node.elements()) {
        if (element.type() == ConfigValueType.OBJECT) {
          Node name = element.child(Schema.LISTENER_NAME.name());
          if (name.exists() && name.type() == ConfigValueType.STRING) {
            names.add((String) name.value().unwrapped());
          }
        }
      }
    }
    return names;
  }

  /**
   * A socket option only the native transports (epoll, io_uring) set (false when absent). With
   * {@code io.transport = nio} in the same file, {@code true} is an error at its own line; with
   * {@code auto} it is checked when the listener is bound, since only then is the transport known.
   */
  private static Optional<Boolean> epollOption(
      Node element, Schema.Key key, Optional<IoConfig.Transport> transport) {
    Node node = element.child(key.name());
    if (!node.exists()) {
      return Optional.of(false);
    }
    Optional<Boolean> on = Readers.bool(node, key);
    if (on.orElse(false) && transport.equals(Optional.of(IoConfig.Transport.NIO))) {
      node.error(
          key.name()
              + " = true needs a native transport, but io.transport = nio (expected"
              + " io.transport = auto, epoll or io_uring on Linux, or no "
              + key.name()
              + ")");
      return Optional.empty();
    }
    return on;
  }

  private static boolean validName(Node node, String name) {
    if (NAME.matcher(name).matches()) {
      return true;
    }
    node.error(
        "\""
            + name
            + "\" is not a valid listener name (expected "
            + Schema.LISTENER_NAME.expected()
            + ")");
    return false;
  }
}
