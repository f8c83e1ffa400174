package io.tollgate.config;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * {@code tollgate.acme}: the ACME CA that issues certificates for routes with {@code certificate =
 * acme}, and where they are kept.
 *
 * @param directory the CA's RFC 8555 directory URL
 * @param email contact address registered with the account, if any
 * @param storage directory for the account key, certificate keys, certificates and the order lock;
 *     may be shared by a fleet
 * @param ca PEM roots to trust for the CA's own HTTPS (a private ACME server); absent: the JDK's
 * @param challenge how names are proven
 * @param renewBefore renew this long before expiry (the CA's ARI window wins when offered)
 * @param keyType the certificate key(s) to order
 */
public record AcmeConfig(
    URI directory,
    Optional<String> email,
    Path storage,
    Optional<Path> ca,
    Challenge challenge,
    Duration renewBefore,
    KeyType keyType) {

  /** {@code challenge}. */
  public enum Challenge {
    TLS_ALPN_01,
    HTTP_01;

    /** The RFC 8555 challenge type name. */
    public String acmeName() {
      return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }
  }

  /** {@code key-type}. */
  public enum KeyType {
    EC_P256,
    RSA_2048,
    BOTH;

    public boolean ecdsa() {
      return this != RSA_2048;
    }

    public boolean rsa() {
      return this != EC_P256;
    }
  }

  public static final Duration DEFAULT_RENEW_BEFORE = Duration.ofDays(30);

  public AcmeConfig {
    Objects.requireNonNull(directory, "directory");
    Objects.requireNonNull(email, "email");
    Objects.requireNonNull(storage, "storage");
    Objects.requireNonNull(ca, "ca");
    Objects.requireNonNull(challenge, "challenge");
    Objects.requireNonNull(keyType, "keyType");
    if (renewBefore.isNegative() || renewBefore.isZero()) {
      throw new IllegalArgumentException("renewBefore must be positive");
    }
  }
}
