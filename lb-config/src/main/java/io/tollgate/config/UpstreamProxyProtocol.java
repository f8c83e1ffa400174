package io.tollgate.config;

import java.net.InetAddress;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * Whether a listener reads a PROXY protocol header (v1 or v2) sent by a balancer in front of
 * Tollgate ({@code tollgate.listeners[i].proxy-protocol}).
 *
 * @param mode off: never (the default); optional: a header is read when one comes, plain TLS
 *     passes; required: every connection must start with a header
 * @param trusted the sources allowed to send a header; a header from any other source closes the
 *     connection ({@code proxy_untrusted})
 */
public record UpstreamProxyProtocol(Mode mode, List<Cidr> trusted) {

  /** {@code mode = off | optional | required}. */
  public enum Mode {
    OFF,
    OPTIONAL,
    REQUIRED;

    public String configName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public static final UpstreamProxyProtocol OFF = new UpstreamProxyProtocol(Mode.OFF, List.of());

  public UpstreamProxyProtocol {
    Objects.requireNonNull(mode, "mode");
    trusted = List.copyOf(trusted);
  }

  public boolean enabled() {
    return mode != Mode.OFF;
  }

  /** Whether {@code source} may send a header. */
  public boolean trusts(InetAddress source) {
    for (Cidr c : trusted) {
      if (c.contains(source)) {
        return true;
      }
    }
    return false;
  }
}
