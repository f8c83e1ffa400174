package io.tollgate.config.bind;

import io.tollgate.config.AdminConfig;
import io.tollgate.config.HostPort;
import io.tollgate.config.OpsConfig;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Binds the operations settings of {@code tollgate}: {@code admin}, {@code watch} and {@code
 * warmup}. The admin endpoint is off unless {@code admin.address} is written; it refuses a
 * non-loopback address without {@code token-file}, because anyone who can reach it could then drain
 * servers or reload.
 */
final class OpsBinder {
  private OpsBinder() {}

  static Optional<OpsConfig> bind(Node tollgate, FileRefs files) {
    Node watchNode = tollgate.child(Schema.WATCH.name());
    Optional<Boolean> watch =
        Readers.required(watchNode, Schema.WATCH)
            ? Readers.bool(watchNode, Schema.WATCH)
            : Optional.empty();
    Optional<Optional<AdminConfig>> admin = admin(tollgate.child(Schema.ADMIN.name()), files);
    Node warmupNode = tollgate.child(Schema.WARMUP.name());
    boolean warmupShaped =
        Readers.required(warmupNode, Schema.WARMUP)
            && Readers.object(warmupNode, Schema.WARMUP_SHAPE, Schema.WARMUP.expected())
                .isPresent();
    OptionalInt handshakes = warmupShaped ? handshakes(warmupNode) : OptionalInt.empty();
    OptionalInt reloads = warmupShaped ? reloads(warmupNode) : OptionalInt.empty();
    if (watch.isEmpty() || admin.isEmpty() || handshakes.isEmpty() || reloads.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(
        new OpsConfig(admin.get(), watch.get(), handshakes.getAsInt(), reloads.getAsInt()));
  }

  /**
   * {@code warmup.handshakes = auto | N}: {@link OpsConfig#HANDSHAKES_AUTO} for auto; empty on
   * error.
   */
  private static OptionalInt handshakes(Node warmup) {
    Node handshakes = warmup.child(Schema.WARMUP_HANDSHAKES.name());
    if (!Readers.required(handshakes, Schema.WARMUP_HANDSHAKES)) {
      return OptionalInt.empty();
    }
    return Readers.autoOrIntInRange(
        handshakes,
        Schema.WARMUP_HANDSHAKES,
        0,
        Schema.MAX_WARMUP_HANDSHAKES,
        OpsConfig.HANDSHAKES_AUTO);
  }

  /** {@code warmup.reloads = auto | N}: {@link OpsConfig#RELOADS_AUTO} for auto; empty on error. */
  private static OptionalInt reloads(Node warmup) {
    Node reloads = warmup.child(Schema.WARMUP_RELOADS.name());
    if (!Readers.required(reloads, Schema.WARMUP_RELOADS)) {
      return OptionalInt.empty();
    }
    return Readers.autoOrIntInRange(
        reloads, Schema.WARMUP_RELOADS, 0, Schema.MAX_WARMUP_RELOADS, OpsConfig.RELOADS_AUTO);
  }

  /** Empty on error; holds an empty Optional when the endpoint is off. */
  private static Optional<Optional<AdminConfig>> admin(Node node, FileRefs files) {
    if (!node.exists()) {
      return Optional.of(Optional.empty());
    }
    if (Readers.object(node, Schema.ADMIN_SHAPE, Schema.ADMIN.expected()).isEmpty()) {
      return Optional.empty();
    }
    Node addressNode = node.child(Schema.ADMIN_ADDRESS.name());
    Node tokenNode = node.child(Schema.TOKEN_FILE.name());
    if (!addressNode.exists()) {
      if (tokenNode.exists()) {
        node.error(
            "token-file without address: the admin endpoint is off unless address is set"
                + " (expected "
                + Schema.ADMIN.expected()
                + ")");
        return Optional.empty();
      }
      return Optional.of(Optional.empty());
    }
    Optional<HostPort> address = Addresses.readListen(addressNode, Schema.ADMIN_ADDRESS);
    Optional<Optional<Path>> token = files.optionalFile(tokenNode, Schema.TOKEN_FILE);
    if (address.isEmpty() || token.isEmpty()) {
      return Optional.empty();
    }
    if (token.get().isEmpty() && !AdminConfig.isLoopback(address.get().host())) {
      addressNode.error(
          "\""
              + address.get()
              + "\" is not a loopback address and admin has no"
              + " token-file: anyone who can reach it could drain servers and reload (expected a"
              + " loopback address such as \"127.0.0.1:9900\", or a token-file)");
      return Optional.empty();
    }
    return Optional.of(Optional.of(new AdminConfig(address.get(), token.get())));
  }
}
