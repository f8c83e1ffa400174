package io.tollgate.config;

import java.util.Locale;

/** What Tollgate does with a connection once its route is known. */
public enum RouteMode {
  /** Relay the encrypted bytes, starting with the peeked ClientHello, unchanged to the backend. */
  PASSTHROUGH,
  /** Complete the TLS handshake with the route's certificate; relay plaintext to the backend. */
  OFFLOAD,
  /** As offload, then a new, verified TLS connection to the backend. */
  REENCRYPT;

  /** The spelling used in config files and logs ({@code passthrough}). */
  public String configName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Whether Tollgate terminates the client's TLS (and so needs a certificate). */
  public boolean terminatesTls() {
    return this != PASSTHROUGH;
  }
}
