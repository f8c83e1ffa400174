package io.tollgate.config;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;

/**
 * {@code client-auth { mode = require | optional, ca = "clients-ca.pem" }} on an offload or
 * reencrypt route: clients present a certificate issued by one of the CAs in {@code ca}.
 */
public record ClientAuth(Mode mode, Path ca) {
  public enum Mode {
    /** The handshake fails without a valid client certificate. */
    REQUIRE,
    /** A client certificate is asked for and verified if sent, but not required. */
    OPTIONAL;

    public String configName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public ClientAuth {
    Objects.requireNonNull(mode, "mode");
    Objects.requireNonNull(ca, "ca");
  }
}
