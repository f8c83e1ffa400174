package io.tollgate.config.bind;

import io.tollgate.config.AccessRules;
import io.tollgate.config.Cidr;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Binds {@code allow-from} and {@code deny-from} of a route, default route or listener. */
final class AccessBinder {
  private AccessBinder() {}

  /** The owner's rules; {@link AccessRules#NONE} when it has neither key, empty on an error. */
  static Optional<AccessRules> bind(Node owner) {
    Optional<List<Cidr>> allow = networks(owner.child(Schema.ALLOW_FROM.name()), Schema.ALLOW_FROM);
    Optional<List<Cidr>> deny = networks(owner.child(Schema.DENY_FROM.name()), Schema.DENY_FROM);
    if (allow.isEmpty() || deny.isEmpty()) {
      return Optional.empty();
    }
    if (allow.get().isEmpty() && deny.get().isEmpty()) {
      return Optional.of(AccessRules.NONE);
    }
    return Optional.of(new AccessRules(allow.get(), deny.get()));
  }

  private static Optional<List<Cidr>> networks(Node node, Schema.Key key) {
    if (!node.exists()) {
      return Optional.of(List.of());
    }
    Optional<List<Node>> elements = Readers.list(node, key);
    if (elements.isEmpty()) {
      return Optional.empty();
    }
    if (elements.get().isEmpty() && key == Schema.ALLOW_FROM) {
      // An empty allow list reads as "nobody", but means "no rule": say so rather than guess.
      node.error(
          "allow-from is empty (expected "
              + key.expected()
              + "; to refuse every client, write deny-from = [\"0.0.0.0/0\", \"::/0\"]; to allow"
              + " every client, remove allow-from)");
      return Optional.empty();
    }
    List<Cidr> out = new ArrayList<>();
    boolean ok = true;
    for (Node e : elements.get()) {
      Optional<Cidr> cidr = Readers.string(e, key).flatMap(s -> parse(e, s));
      ok &= cidr.isPresent();
      cidr.ifPresent(out::add);
    }
    return ok ? Optional.of(out) : Optional.empty();
  }

  private static Optional<Cidr> parse(Node e, String text) {
    Optional<Cidr> c = Cidr.parse(text);
    if (c.isEmpty()) {
      e.error(
          e.show()
              + " is not a network (expected an IP address or CIDR such as \"10.0.0.0/8\","
              + " \"192.0.2.7\" or \"2001:db8::/32\"; host names are not allowed)");
    }
    return c;
  }
}
