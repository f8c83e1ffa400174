package io.tollgate.config.bind;

import io.tollgate.config.BackendTlsConfig;
import io.tollgate.config.CertificateFiles;
import io.tollgate.config.CertificateSource;
import io.tollgate.config.ClientAuth;
import io.tollgate.config.ServerTlsConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Binds the TLS settings on routes (the client-facing side of offload and reencrypt) and in pools
 * ({@code tls}: reencrypt's side toward the servers).
 */
final class TlsBinder {
  private final FileRefs files;
  private final CertificateBinder certificates;
  private final Object memoKey;

  /**
   * @param storeConfigured whether {@code tollgate.certificates.directory} is written, which {@code
   *     certificate = auto} needs
   */
  TlsBinder(FileRefs files, boolean storeConfigured) {
    this(files, storeConfigured, false);
  }

  /**
   * @param acmeConfigured whether {@code tollgate.acme} is written, which {@code certificate =
   *     acme} needs
   */
  TlsBinder(FileRefs files, boolean storeConfigured, boolean acmeConfigured) {
    this.files = files;
    this.memoKey = interned(List.of(files.base(), storeConfigured, acmeConfigured));
    this.certificates = new CertificateBinder(files, storeConfigured, acmeConfigured);
  }

  /** The last memo key made: see {@link #interned}. */
  private static final AtomicReference<Object> LAST_KEY = new AtomicReference<>();

  /**
   * The last key made when it equals {@code key}: a reload's binder then has the very key its
   * memo's 10,000 routes and pools were recorded with, and comparing them is a reference check.
   */
  private static Object interned(Object key) {
    Object last = LAST_KEY.get();
    if (key.equals(last)) {
      return last;
    }
    LAST_KEY.set(key);
    return key;
  }

  /**
   * Everything besides a node's own value that binding it with this binder depends on: two binders
   * with equal keys bind the same value alike ({@link BindMemo}).
   */
  Object memoKey() {
    return memoKey;
  }

  /**
   * The TLS keys of a route (or of any object holding {@link Schema#SERVER_TLS_KEYS}).
   *
   * @param certificateRequired false only to look for mistakes in a route whose mode could not be
   *     read: whether it needs a certificate is then unknown
   */
  Optional<ServerTlsConfig> serverTls(Node route, boolean certificateRequired) {
    Node certificateNode = route.child(Schema.CERTIFICATE.name());
    Optional<CertificateSource> certificate = Optional.empty();
    if (certificateNode.exists()) {
      certificate = certificates.serverCertificate(certificateNode);
    } else if (certificateRequired) {
      Readers.required(certificateNode, Schema.CERTIFICATE);
    }
    Optional<List<String>> alpn = TlsLists.alpn(route.child(Schema.ALPN.name()));
    Optional<List<String>> protocols = TlsLists.protocols(route.child(Schema.PROTOCOLS.name()));
    Optional<List<String>> ciphers = TlsLists.ciphers(route.child(Schema.CIPHERS.name()));
    Optional<Optional<ClientAuth>> clientAuth = clientAuth(route.child(Schema.CLIENT_AUTH.name()));
    if (certificate.isEmpty()
        || alpn.isEmpty()
        || protocols.isEmpty()
        || ciphers.isEmpty()
        || clientAuth.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(
        new ServerTlsConfig(
            certificate.get(), alpn.get(), protocols.get(), ciphers.get(), clientAuth.get()));
  }

  /**
   * Reports each TLS key on an object that does not terminate TLS, since it would silently do
   * nothing there.
   *
   * @param why completes "only offload and reencrypt routes terminate TLS; ...": {@code "this route
   *     is passthrough"}
   * @param fix what to do instead, given the key's name
   * @return true if there was none
   */
  static boolean refuseServerTls(
      Node owner, String why, java.util.function.UnaryOperator<String> fix) {
    boolean none = true;
    for (Schema.Key key : Schema.SERVER_TLS_KEYS) {
      Node node = owner.child(key.name());
      if (node.exists()) {
        node.error(
            "only offload and reencrypt routes terminate TLS; "
                + why
                + ", so "
                + key.name()
                + " would do nothing ("
                + fix.apply(key.name())
                + ")");
        none = false;
      }
    }
    return none;
  }

  /** {@code client-auth { mode, ca }}; empty inside when absent. */
  private Optional<Optional<ClientAuth>> clientAuth(Node node) {
    if (!node.exists()) {
      return Optional.of(Optional.empty());
    }
    if (Readers.object(node, Schema.CLIENT_AUTH_SHAPE, Schema.CLIENT_AUTH.expected()).isEmpty()) {
      return Optional.empty();
    }
    Node modeNode = node.child(Schema.CLIENT_AUTH_MODE.name());
    Optional<ClientAuth.Mode> mode =
        Readers.required(modeNode, Schema.CLIENT_AUTH_MODE)
            ? Readers.choice(
                modeNode, Schema.CLIENT_AUTH_MODE, ClientAuth.Mode.class, "client-auth mode")
            : Optional.empty();
    Optional<Path> ca = files.requiredFile(node, Schema.CLIENT_CA);
    if (mode.isEmpty() || ca.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(Optional.of(new ClientAuth(mode.get(), ca.get())));
  }

  /**
   * A pool's {@code tls} block; empty inside when absent. {@code verify = false} is allowed but
   * warned about at every load: it is the kind of switch left on after a test.
   */
  Optional<Optional<BackendTlsConfig>> backendTls(String poolName, Node node) {
    if (!node.exists()) {
      return Optional.of(Optional.empty());
    }
    if (Readers.object(node, Schema.BACKEND_TLS_SHAPE, Schema.POOL_TLS.expected()).isEmpty()) {
      return Optional.empty();
    }
    Optional<Optional<Path>> ca =
        files.optionalFile(node.child(Schema.BACKEND_CA.name()), Schema.BACKEND_CA);
    Node nameNode = node.child(Schema.SERVER_NAME.name());
    Optional<String> serverName = serverName(nameNode);
    Node verifyNode = node.child(Schema.VERIFY.name());
    Optional<Boolean> verify =
        verifyNode.exists()
            ? Readers.bool(verifyNode, Schema.VERIFY)
            : Optional.of(Schema.DEFAULT_VERIFY);
    if (verify.isPresent() && !verify.get()) {
      verifyNode.warn(
          "certificate and name verification toward the servers of pool \""
              + poolName
              + "\" is OFF: anyone on the network path to them can impersonate them and"
              + " read or change the traffic (remove verify = false, and set ca to the CA that"
              + " issued their certificates)");
    }
    Node certificateNode = node.child(Schema.CLIENT_CERTIFICATE.name());
    Optional<CertificateFiles> certificate =
        certificateNode.exists()
            ? certificates.clientCertificate(certificateNode)
            : Optional.empty();
    Optional<List<String>> protocols = TlsLists.protocols(node.child(Schema.PROTOCOLS.name()));
    if (ca.isEmpty()
        || (nameNode.exists() && serverName.isEmpty())
        || verify.isEmpty()
        || (certificateNode.exists() && certificate.isEmpty())
        || protocols.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(
        Optional.of(
            new BackendTlsConfig(
                ca.get(), serverName, verify.get(), certificate, protocols.get())));
  }

  /** One exact DNS name, normalised as route hosts are (lower case, no trailing dot). */
  private static Optional<String> serverName(Node node) {
    Optional<String> text = Readers.string(node, Schema.SERVER_NAME);
    if (text.isEmpty()) {
      return Optional.empty();
    }
    String name = HostPatterns.normalise(text.get());
    String problem;
    if (name.isEmpty()) {
      problem = "is empty (expected " + Schema.SERVER_NAME.expected() + ")";
    } else if (name.indexOf('*') >= 0) {
      problem =
          "is a wildcard (expected one exact name: it is sent as SNI and the servers'"
              + " certificate must match it)";
    } else if (HostPatterns.looksLikeIpAddress(name)) {
      problem =
          "is an IP address, which SNI cannot carry (RFC 6066) (expected a host name in"
              + " the servers' certificate; without server-name the client's SNI is used)";
    } else {
      problem = HostPatterns.problem(name);
    }
    if (problem != null) {
      node.error(node.show() + " " + problem);
      return Optional.empty();
    }
    return Optional.of(name);
  }
}
