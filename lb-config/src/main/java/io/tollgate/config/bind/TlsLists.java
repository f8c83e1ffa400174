package io.tollgate.config.bind;

import io.tollgate.config.ServerTlsConfig;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The lists that tune one TLS endpoint: protocol versions, cipher suites and ALPN names, each
 * defaulted when absent. Only their form is checked here; whether the TLS provider knows a cipher
 * suite is for lb-core to say when it builds the TLS contexts.
 */
final class TlsLists {
  private static final Schema.Key PROTOCOL =
      new Schema.Key("protocol", "a TLS version such as \"TLSv1.3\"");
  private static final Schema.Key CIPHER =
      new Schema.Key(
          "cipher", "a cipher suite name such as \"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\"");
  private static final Schema.Key ALPN_NAME =
      new Schema.Key("alpn", "an ALPN protocol name such as \"h2\" or \"http/1.1\"");

  /** RFC 7301: a protocol name is a non-empty byte string of at most 255 bytes. */
  private static final int MAX_ALPN_LENGTH = 255;

  private static final String SUPPORTED = "expected TLSv1.2 or TLSv1.3";
  private static final String RFC_8996 = "RFC 8996";
  private static final String OLDER_TOO = ", and RFC 8996 retires every version before TLS 1.2";

  /** Versions providers still know by name, and the RFC that retired each. */
  private static final Map<String, String> DEPRECATED =
      Map.of(
          "tlsv1",
          RFC_8996,
          "tlsv1.0",
          RFC_8996,
          "tlsv1.1",
          RFC_8996,
          "sslv3",
          "RFC 7568" + OLDER_TOO,
          "sslv2",
          "RFC 6176" + OLDER_TOO,
          "sslv2hello",
          "RFC 6176" + OLDER_TOO);

  private TlsLists() {}

  /**
   * TLS versions in the order written, spelled as providers name them ({@code TLSv1.3}); {@link
   * ServerTlsConfig#DEFAULT_PROTOCOLS} when absent.
   */
  static Optional<List<String>> protocols(Node node) {
    if (!node.exists()) {
      return Optional.of(ServerTlsConfig.DEFAULT_PROTOCOLS);
    }
    Optional<List<Node>> elements = Readers.list(node, Schema.PROTOCOLS);
    if (elements.isEmpty()) {
      return Optional.empty();
    }
    if (elements.get().isEmpty()) {
      node.error("no protocols (expected " + Schema.PROTOCOLS.expected() + ")");
      return Optional.empty();
    }
    List<String> out = new ArrayList<>();
    Map<String, Node> seen = new HashMap<>();
    boolean ok = true;
    for (Node element : elements.get()) {
      Optional<String> version = protocol(element);
      if (version.isPresent() && seen.putIfAbsent(version.get(), element) != null) {
        element.error(
            shown(element, version.get()) + " is listed twice (expected each version" + " once)");
        version = Optional.empty();
      }
      ok &= version.isPresent();
      version.ifPresent(out::add);
    }
    return ok ? Optional.of(out) : Optional.empty();
  }

  private static Optional<String> protocol(Node node) {
    Optional<String> text = Readers.string(node, PROTOCOL);
    if (text.isEmpty()) {
      return Optional.empty();
    }
    String wanted = text.get().trim().toLowerCase(Locale.ROOT);
    for (String version : ServerTlsConfig.DEFAULT_PROTOCOLS) {
      if (version.toLowerCase(Locale.ROOT).equals(wanted)) {
        return Optional.of(version);
      }
    }
    String rfc = DEPRECATED.get(wanted);
    if (rfc != null) {
      node.error(
          node.show() + " is deprecated (" + rfc + ") and not supported (" + SUPPORTED + ")");
    } else {
      node.error(
          node.show()
              + " is not a supported TLS version ("
              + SUPPORTED
              + ")"
              + DidYouMean.hint(wanted, ServerTlsConfig.DEFAULT_PROTOCOLS));
    }
    return Optional.empty();
  }

  /** Cipher suite names, trimmed; empty (the built-in list) when absent. */
  static Optional<List<String>> ciphers(Node node) {
    if (!node.exists()) {
      return Optional.of(List.of());
    }
    Optional<List<Node>> elements = Readers.list(node, Schema.CIPHERS);
    if (elements.isEmpty()) {
      return Optional.empty();
    }
    List<String> out = new ArrayList<>();
    boolean ok = true;
    for (Node element : elements.get()) {
      Optional<String> cipher = cipher(element);
      ok &= cipher.isPresent();
      cipher.ifPresent(out::add);
    }
    return ok ? Optional.of(out) : Optional.empty();
  }

  private static Optional<String> cipher(Node node) {
    Optional<String> text = Readers.string(node, CIPHER);
    if (text.isEmpty()) {
      return Optional.empty();
    }
    String name = text.get().trim();
    if (name.isEmpty()) {
      node.error("empty cipher suite name (expected " + CIPHER.expected() + ")");
      return Optional.empty();
    }
    // OpenSSL and nginx take one "A:B" string; here each name is its own element.
    if (name.matches(".*[\\s:,].*")) {
      node.error(
          node.show()
              + " is not one cipher suite name (expected one name per list"
              + " element, e.g. [\"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\","
              + " \"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256\"])");
      return Optional.empty();
    }
    return Optional.of(name);
  }

  /** ALPN names in preference order; {@link ServerTlsConfig#DEFAULT_ALPN} when absent. */
  static Optional<List<String>> alpn(Node node) {
    if (!node.exists()) {
      return Optional.of(ServerTlsConfig.DEFAULT_ALPN);
    }
    return alpnList(node, Schema.ALPN);
  }

  /**
   * A list of ALPN protocol names under {@code key} (present), each valid and listed once; {@code
   * alpn} and {@code match-alpn} share the rules.
   */
  static Optional<List<String>> alpnList(Node node, Schema.Key key) {
    Optional<List<Node>> elements = Readers.list(node, key);
    if (elements.isEmpty()) {
      return Optional.empty();
    }
    List<String> out = new ArrayList<>();
    Map<String, Node> seen = new HashMap<>();
    boolean ok = true;
    for (Node element : elements.get()) {
      Optional<String> name = alpnName(element);
      // ALPN names are byte strings, compared exactly: "H2" and "h2" are different protocols.
      if (name.isPresent() && seen.putIfAbsent(name.get(), element) != null) {
        element.error(element.show() + " is listed twice (expected each protocol once)");
        name = Optional.empty();
      }
      ok &= name.isPresent();
      name.ifPresent(out::add);
    }
    return ok ? Optional.of(out) : Optional.empty();
  }

  private static Optional<String> alpnName(Node node) {
    Optional<String> text = Readers.string(node, ALPN_NAME);
    if (text.isEmpty()) {
      return Optional.empty();
    }
    String name = text.get();
    if (name.isEmpty()) {
      node.error("empty ALPN protocol name (expected " + ALPN_NAME.expected() + ")");
      return Optional.empty();
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      // Registered names are visible ASCII; anything else is a typo or an encoding accident.
      if (c <= ' ' || c > '~') {
        String what = c == ' ' ? "a space" : String.format("U+%04X", (int) c);
        node.error(
            node.show()
                + " contains "
                + what
                + " (expected printable ASCII without"
                + " spaces, e.g. \"h2\" or \"http/1.1\")");
        return Optional.empty();
      }
    }
    // All ASCII by now, so characters are bytes.
    if (name.length() > MAX_ALPN_LENGTH) {
      node.error(
          "ALPN protocol name of "
              + name.length()
              + " bytes (expected 1.."
              + MAX_ALPN_LENGTH
              + " bytes, RFC 7301)");
      return Optional.empty();
    }
    return Optional.of(name);
  }

  /** The value as written, plus the canonical form when that differs: "tlsv1.3" (TLSv1.3). */
  private static String shown(Node node, String canonical) {
    String raw = String.valueOf(node.value().unwrapped());
    return raw.equals(canonical) ? "\"" + raw + "\"" : "\"" + raw + "\" (" + canonical + ")";
  }
}
