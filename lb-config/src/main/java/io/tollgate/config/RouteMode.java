package io.tollgate.config;

import java.util.Locale;

/** What Tollgate does with a connection once its route is known. */
public enum RouteMode {
  /** Relay the encrypted bytes, starting with the peeked ClientHello, unchanged to the backend. */
  PASSTHROUGH;

  /** The spelling used in config files and logs ({@code passthrough}). */
  public String configName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
