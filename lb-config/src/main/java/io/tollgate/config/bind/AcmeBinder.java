package io.tollgate.config.bind;

import io.tollgate.config.AcmeConfig;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/** Binds {@code tollgate.acme} (issue 12); absent means no route may say certificate = acme. */
final class AcmeBinder {
  private AcmeBinder() {}

  /** Empty outside when written but wrong (reported); empty inside when absent. */
  static Optional<Optional<AcmeConfig>> bind(Node node, FileRefs files) {
    if (!node.exists()) {
      return Optional.of(Optional.empty());
    }
    if (Readers.object(node, Schema.ACME_SHAPE, Schema.ACME.expected()).isEmpty()) {
      return Optional.empty();
    }
    Optional<URI> directory = directory(node.child(Schema.ACME_DIRECTORY.name()));
    Node emailNode = node.child(Schema.ACME_EMAIL.name());
    Optional<Optional<String>> email = Optional.of(Optional.empty());
    if (emailNode.exists()) {
      email = Readers.string(emailNode, Schema.ACME_EMAIL).flatMap(e -> email(emailNode, e));
    }
    Node storageNode = node.child(Schema.ACME_STORAGE.name());
    Optional<Path> storage =
        Readers.required(storageNode, Schema.ACME_STORAGE)
            ? files.writableDirectory(storageNode, Schema.ACME_STORAGE)
            : Optional.empty();
    Optional<Optional<Path>> ca =
        files.optionalFile(node.child(Schema.ACME_CA.name()), Schema.ACME_CA);
    Node challengeNode = node.child(Schema.ACME_CHALLENGE.name());
    Optional<AcmeConfig.Challenge> challenge =
        challengeNode.exists()
            ? Readers.choice(
                challengeNode, Schema.ACME_CHALLENGE, AcmeConfig.Challenge.class, "challenge")
            : Optional.of(AcmeConfig.Challenge.TLS_ALPN_01);
    Node renewNode = node.child(Schema.ACME_RENEW_BEFORE.name());
    Optional<Duration> renewBefore =
        renewNode.exists()
            ? Readers.positiveDuration(renewNode, Schema.ACME_RENEW_BEFORE)
            : Optional.of(AcmeConfig.DEFAULT_RENEW_BEFORE);
    Node keyTypeNode = node.child(Schema.ACME_KEY_TYPE.name());
    Optional<AcmeConfig.KeyType> keyType =
        keyTypeNode.exists()
            ? Readers.choice(
                keyTypeNode, Schema.ACME_KEY_TYPE, AcmeConfig.KeyType.class, "key-type")
            : Optional.of(AcmeConfig.KeyType.EC_P256);
    if (directory.isEmpty()
        || email.isEmpty()
        || storage.isEmpty()
        || ca.isEmpty()
        || challenge.isEmpty()
        || renewBefore.isEmpty()
        || keyType.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(
        Optional.of(
            new AcmeConfig(
                directory.get(),
                email.get(),
                storage.get(),
                ca.get(),
                challenge.get(),
                renewBefore.get(),
                keyType.get())));
  }

  private static Optional<URI> directory(Node node) {
    if (!Readers.required(node, Schema.ACME_DIRECTORY)) {
      return Optional.empty();
    }
    Optional<String> text = Readers.string(node, Schema.ACME_DIRECTORY);
    if (text.isEmpty()) {
      return Optional.empty();
    }
    try {
      URI uri = new URI(text.get().trim());
      if ("https".equalsIgnoreCase(uri.getScheme()) && uri.getHost() != null) {
        return Optional.of(uri);
      }
    } catch (URISyntaxException e) {
      // reported below
    }
    node.error(
        node.show()
            + " is not an https URL (expected "
            + Schema.ACME_DIRECTORY.expected()
            + ", e.g. \"https://acme-staging-v02.api.letsencrypt.org/directory\")");
    return Optional.empty();
  }

  private static Optional<Optional<String>> email(Node node, String text) {
    String e = text.trim();
    int at = e.indexOf('@');
    if (at <= 0 || at != e.lastIndexOf('@') || at == e.length() - 1 || e.contains(" ")) {
      node.error(node.show() + " is not an e-mail address (expected such as ops@example.com)");
      return Optional.empty();
    }
    return Optional.of(Optional.of(e));
  }
}
