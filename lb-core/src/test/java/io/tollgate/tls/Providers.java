package io.tollgate.tls;

import io.netty.handler.ssl.OpenSsl;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/** Runs builds with a chosen TLS provider ({@code tollgate.tls.provider}). */
final class Providers {
  static final String OPENSSL = "openssl";
  static final String JDK = "jdk";

  private Providers() {}

  /** BoringSSL when its native library loads here, and always the JDK. */
  static List<String> available() {
    List<String> providers = new ArrayList<>();
    if (OpenSsl.isAvailable()) {
      providers.add(OPENSSL);
    }
    providers.add(JDK);
    return providers;
  }

  /** Calls {@code build} with the property set to {@code provider}, then restores it. */
  static <T> T with(String provider, Supplier<T> build) {
    String before = System.getProperty(TlsProvider.PROPERTY);
    System.setProperty(TlsProvider.PROPERTY, provider);
    try {
      return build.get();
    } finally {
      if (before == null) {
        System.clearProperty(TlsProvider.PROPERTY);
      } else {
        System.setProperty(TlsProvider.PROPERTY, before);
      }
    }
  }
}
