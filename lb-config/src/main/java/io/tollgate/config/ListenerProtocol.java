package io.tollgate.config;

import java.util.Locale;

/** What a listener's connections speak first ({@code tollgate.listeners[i].protocol}). */
public enum ListenerProtocol {
  /** A TLS ClientHello, routed by its SNI (the default). */
  TLS,
  /**
   * A plain HTTP/1.x request, routed by its {@code Host}: the port-80 companion (ACME http-01,
   * tenants' own plain HTTP, redirects to https).
   */
  HTTP;

  /** The spelling used in config files ({@code tls}). */
  public String configName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
