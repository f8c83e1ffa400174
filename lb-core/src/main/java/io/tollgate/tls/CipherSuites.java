package io.tollgate.tls;

import java.util.ArrayList;
import java.util.List;

/** The cipher suites Tollgate offers by default. */
public final class CipherSuites {
  private CipherSuites() {}

  /**
   * TLS 1.2 default: Mozilla "intermediate" without DHE, i.e. ECDHE key exchange with AEAD ciphers
   * only (no CBC, no static RSA key exchange), ECDSA before RSA at equal strength.
   */
  public static final List<String> TLS12_DEFAULT =
      List.of(
          "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
          "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
          "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
          "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
          "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
          "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");

  /**
   * The TLS 1.3 suites (all AEAD). BoringSSL always enables them; the JDK provider only does TLS
   * 1.3 when they are in the enabled list, so they are always appended.
   */
  public static final List<String> TLS13 =
      List.of("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256");

  /**
   * What a context enables: {@code configured} TLS 1.2 suites (or {@link #TLS12_DEFAULT} when
   * empty) followed by the TLS 1.3 suites.
   */
  static List<String> enabled(List<String> configured) {
    List<String> suites = new ArrayList<>(configured.isEmpty() ? TLS12_DEFAULT : configured);
    for (String suite : TLS13) {
      if (!suites.contains(suite)) {
        suites.add(suite);
      }
    }
    return List.copyOf(suites);
  }
}
