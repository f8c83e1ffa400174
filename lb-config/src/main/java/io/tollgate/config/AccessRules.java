package io.tollgate.config;

import java.util.List;

/**
 * {@code allow-from} and {@code deny-from} of a route or listener: which client addresses (after a
 * PROXY header set them) may use it. A client in {@code denyFrom} is refused; otherwise, when
 * {@code allowFrom} is not empty, only clients in it are let through. Deny wins over allow.
 *
 * @param allowFrom empty: every address not denied
 * @param denyFrom empty: nobody is denied by this list
 */
public record AccessRules(List<Cidr> allowFrom, List<Cidr> denyFrom) {
  /** No rules: every client may connect. */
  public static final AccessRules NONE = new AccessRules(List.of(), List.of());

  public AccessRules {
    allowFrom = List.copyOf(allowFrom);
    denyFrom = List.copyOf(denyFrom);
  }

  /** Whether there is nothing to check. */
  public boolean isEmpty() {
    return allowFrom.isEmpty() && denyFrom.isEmpty();
  }
}
