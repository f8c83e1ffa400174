package io.tollgate.config.bind;

import io.tollgate.config.CertificatesConfig;
import io.tollgate.config.TlsConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Binds the TLS sections every offload and reencrypt route shares: {@code tollgate.certificates}
 * (the store behind {@code certificate = auto}) and {@code tollgate.tls} (session resumption).
 */
final class TlsSectionsBinder {
  private TlsSectionsBinder() {}

  static Optional<CertificatesConfig> certificates(Node node, FileRefs files) {
    if (!node.exists()) {
      return Optional.of(CertificatesConfig.NONE);
    }
    if (Readers.object(node, Schema.CERTIFICATES_SHAPE, Schema.CERTIFICATES.expected()).isEmpty()) {
      return Optional.empty();
    }
    Optional<Optional<Path>> directory =
        files.optionalDirectory(node.child(Schema.DIRECTORY.name()), Schema.DIRECTORY);
    Optional<Optional<Path>> roots =
        files.optionalFile(node.child(Schema.TRUSTED_ROOTS.name()), Schema.TRUSTED_ROOTS);
    if (directory.isEmpty() || roots.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(new CertificatesConfig(directory.get(), roots.get()));
  }

  static Optional<TlsConfig> tls(Node node, FileRefs files) {
    if (Readers.object(node, Schema.TLS_SHAPE, Schema.TLS.expected()).isEmpty()) {
      return Optional.empty();
    }
    Node ticketsNode = node.child(Schema.SESSION_TICKETS.name());
    Optional<Boolean> tickets =
        Readers.required(ticketsNode, Schema.SESSION_TICKETS)
            ? Readers.bool(ticketsNode, Schema.SESSION_TICKETS)
            : Optional.empty();
    Optional<Optional<Path>> keys =
        files.optionalFile(
            node.child(Schema.SESSION_TICKET_KEYS.name()), Schema.SESSION_TICKET_KEYS);
    Node cacheNode = node.child(Schema.SESSION_CACHE_SIZE.name());
    OptionalInt cacheSize =
        Readers.required(cacheNode, Schema.SESSION_CACHE_SIZE)
            ? Readers.intInRange(
                cacheNode, Schema.SESSION_CACHE_SIZE, 0, Schema.MAX_SESSION_CACHE_SIZE)
            : OptionalInt.empty();
    Node timeoutNode = node.child(Schema.SESSION_TIMEOUT.name());
    Optional<Duration> timeout =
        Readers.required(timeoutNode, Schema.SESSION_TIMEOUT)
            ? Readers.positiveDuration(timeoutNode, Schema.SESSION_TIMEOUT)
            : Optional.empty();
    if (tickets.isEmpty() || keys.isEmpty() || cacheSize.isEmpty() || timeout.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(
        new TlsConfig(tickets.get(), keys.get(), cacheSize.getAsInt(), timeout.get()));
  }
}
