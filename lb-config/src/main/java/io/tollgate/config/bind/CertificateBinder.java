package io.tollgate.config.bind;

import io.tollgate.config.CertificateFiles;
import io.tollgate.config.CertificateSource;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Reads {@code certificate} values: a route's ({@code auto}, one {@code { chain, key, ocsp }}
 * object, or a list of one or two) and the client certificate a pool presents to its servers
 * ({@code { chain, key }}).
 */
final class CertificateBinder {
  private static final String CERTIFICATE_OBJECT =
      "a certificate such as { chain = \"site.pem\", key = \"site.key\" }";

  private final FileRefs files;
  private final boolean storeConfigured;
  private final boolean acmeConfigured;

  /**
   * @param storeConfigured whether {@code tollgate.certificates.directory} is written (valid or
   *     not), which {@code certificate = auto} needs
   */
  CertificateBinder(FileRefs files, boolean storeConfigured) {
    this(files, storeConfigured, false);
  }

  /**
   * @param acmeConfigured whether {@code tollgate.acme} is written, which {@code certificate =
   *     acme} needs
   */
  CertificateBinder(FileRefs files, boolean storeConfigured, boolean acmeConfigured) {
    this.files = files;
    this.storeConfigured = storeConfigured;
    this.acmeConfigured = acmeConfigured;
  }

  /** A route's certificate; the node must exist. */
  Optional<CertificateSource> serverCertificate(Node node) {
    return switch (node.type()) {
      case STRING -> auto(node);
      case OBJECT ->
          Readers.object(node, Schema.CERTIFICATE_FILES, CERTIFICATE_OBJECT)
              .flatMap(o -> files(o, Schema.CERTIFICATE_FILES))
              .map(f -> new CertificateSource.Files(List.of(f)));
      case LIST -> list(node);
      default -> {
        node.error(Readers.wrongType(node, Schema.CERTIFICATE.expected()));
        yield Optional.empty();
      }
    };
  }

  /** A pool's client certificate; the node must exist. */
  Optional<CertificateFiles> clientCertificate(Node node) {
    return Readers.object(
            node, Schema.CLIENT_CERTIFICATE_FILES, Schema.CLIENT_CERTIFICATE.expected())
        .flatMap(o -> files(o, Schema.CLIENT_CERTIFICATE_FILES));
  }

  private Optional<CertificateSource> auto(Node node) {
    String text = ((String) node.value().unwrapped()).trim();
    if (text.toLowerCase(Locale.ROOT).equals(Schema.ACME_CERTIFICATE)) {
      return acme(node);
    }
    if (!text.toLowerCase(Locale.ROOT).equals(Schema.AUTO)) {
      String hint = DidYouMean.hint(text, List.of(Schema.AUTO, Schema.ACME_CERTIFICATE));
      if (hint.isEmpty()) {
        hint = "; to use a file write certificate { chain = " + node.show() + ", key = \"...\" }";
      }
      node.error(
          node.show()
              + " is not a valid certificate (expected "
              + Schema.CERTIFICATE.expected()
              + ")"
              + hint);
      return Optional.empty();
    }
    if (!storeConfigured) {
      node.error(
          "certificate = auto needs a certificate store, and there is none: set"
              + " tollgate.certificates.directory to a directory of PEM bundles, or name this"
              + " route's files with certificate { chain = \"...\", key = \"...\" }");
      return Optional.empty();
    }
    return Optional.of(new CertificateSource.Auto());
  }

  private Optional<CertificateSource> acme(Node node) {
    if (!acmeConfigured) {
      node.error(
          "certificate = acme needs an ACME CA, and there is none: add a tollgate.acme { directory"
              + " = \"https://...\", storage = \"...\" } block");
      return Optional.empty();
    }
    return Optional.of(new CertificateSource.Acme());
  }

  private Optional<CertificateSource> list(Node node) {
    List<Node> elements = node.elements();
    boolean ok = true;
    if (elements.isEmpty()) {
      node.error("no certificates (expected " + Schema.CERTIFICATE.expected() + ")");
      ok = false;
    } else if (elements.size() > Schema.MAX_CERTIFICATES) {
      node.error(
          elements.size()
              + " certificates (expected at most "
              + Schema.MAX_CERTIFICATES
              + ": one with an ECDSA key and one with an RSA key)");
      ok = false;
    }
    List<CertificateFiles> out = new ArrayList<>();
    for (Node element : elements) {
      Optional<CertificateFiles> files =
          Readers.object(element, Schema.CERTIFICATE_FILES, CERTIFICATE_OBJECT)
              .flatMap(e -> files(e, Schema.CERTIFICATE_FILES));
      ok &= files.isPresent();
      files.ifPresent(out::add);
    }
    return ok ? Optional.of(new CertificateSource.Files(out)) : Optional.empty();
  }

  /**
   * {@code { chain, key }} and, if the shape has it, {@code ocsp}, from an object whose unknown
   * keys {@link Readers#object} has already reported.
   */
  private Optional<CertificateFiles> files(Node node, Schema.Shape shape) {
    Optional<Path> chain = files.requiredFile(node, Schema.CHAIN);
    Optional<Path> key = files.requiredFile(node, Schema.KEY);
    // Where the shape has no ocsp, Readers.object has already reported the key as unknown.
    Optional<Optional<Path>> ocsp =
        shape.keys().contains(Schema.OCSP)
            ? files.optionalFile(node.child(Schema.OCSP.name()), Schema.OCSP)
            : Optional.of(Optional.empty());
    if (chain.isEmpty() || key.isEmpty() || ocsp.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(new CertificateFiles(chain.get(), key.get(), ocsp.get()));
  }
}
