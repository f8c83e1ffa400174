package io.tollgate.tls;

import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslProvider;
import java.security.GeneralSecurityException;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which TLS implementation the contexts use: BoringSSL through netty-tcnative when its native
 * library loads (the default), else the JDK's. When the native library cannot load, one warning
 * with the cause is logged, the first time a provider is selected; the system property {@value
 * #PROPERTY}{@code =jdk} forces the JDK provider (for tests of the fallback, or to rule out the
 * native library when chasing a problem).
 */
public final class TlsProvider {
  /** System property: {@code jdk} forces the JDK provider; anything else means the default. */
  public static final String PROPERTY = "tollgate.tls.provider";

  /** The JDK's switch for refusing renegotiation that a TLS 1.2 client starts. */
  static final String REJECT_RENEGOTIATION = "jdk.tls.rejectClientInitiatedRenegotiation";

  static {
    rejectClientRenegotiation();
  }

  private static final Logger LOG = LoggerFactory.getLogger(TlsProvider.class);
  private static final AtomicBoolean WARNED_UNAVAILABLE = new AtomicBoolean();
  private static final AtomicBoolean WARNED_PROPERTY = new AtomicBoolean();
  private static volatile Set<String> jdkCipherSuites;

  private final SslProvider provider;

  private TlsProvider(SslProvider provider) {
    this.provider = provider;
  }

  /**
   * Makes the JDK provider refuse client-initiated TLS 1.2 renegotiation (BoringSSL never allows it
   * on a server), unless {@value #REJECT_RENEGOTIATION} was set explicitly. The JDK reads the
   * property once, when its first server handshake starts; so this must run before that: the
   * command line's {@code main} calls it first, and loading this class calls it too. A client that
   * tries gets a {@code handshake_failure} alert and the connection ends.
   */
  public static void rejectClientRenegotiation() {
    if (System.getProperty(REJECT_RENEGOTIATION) == null) {
      System.setProperty(REJECT_RENEGOTIATION, "true");
    }
  }

  /** The provider to use now (reads {@value #PROPERTY} on every call; cheap). */
  public static TlsProvider select() {
    String forced = System.getProperty(PROPERTY, "").trim().toLowerCase(Locale.ROOT);
    if (forced.equals("jdk")) {
      return new TlsProvider(SslProvider.JDK);
    }
    if (!forced.isEmpty()
        && !List.of("openssl", "boringssl", "auto").contains(forced)
        && WARNED_PROPERTY.compareAndSet(false, true)) {
      LOG.warn("-D{}={} is not known (expected jdk, or nothing for the default)", PROPERTY, forced);
    }
    if (OpenSsl.isAvailable()) {
      return new TlsProvider(SslProvider.OPENSSL);
    }
    if (WARNED_UNAVAILABLE.compareAndSet(false, true)) {
      Throwable cause = OpenSsl.unavailabilityCause();
      LOG.warn(
          "BoringSSL (netty-tcnative) cannot be loaded, so TLS termination uses the JDK provider:"
              + " slower handshakes, no OCSP stapling, no shared session-ticket keys. Cause: {}",
          cause == null ? "unknown" : cause.toString());
    }
    return new TlsProvider(SslProvider.JDK);
  }

  /** The JDK provider, whatever is available (tests). */
  static TlsProvider jdk() {
    return new TlsProvider(SslProvider.JDK);
  }

  /** Netty's provider constant: {@code OPENSSL} (BoringSSL) or {@code JDK}. */
  public SslProvider sslProvider() {
    return provider;
  }

  /** Whether this is BoringSSL through netty-tcnative. */
  public boolean isOpenSsl() {
    return provider == SslProvider.OPENSSL;
  }

  /** For logs: {@code BoringSSL (BoringSSL)} or {@code JDK (17.0.15)}. */
  public String describe() {
    return isOpenSsl()
        ? "BoringSSL via netty-tcnative (" + OpenSsl.versionString() + ")"
        : "JDK (" + System.getProperty("java.version") + ")";
  }

  /** The names in {@code cipherSuites} (IANA/Java names) this provider does not implement. */
  public List<String> unsupportedCipherSuites(Collection<String> cipherSuites) {
    return cipherSuites.stream().filter(name -> !supportsCipherSuite(name)).toList();
  }

  boolean supportsCipherSuite(String name) {
    return isOpenSsl() ? OpenSsl.isCipherSuiteAvailable(name) : jdkCipherSuites().contains(name);
  }

  private static Set<String> jdkCipherSuites() {
    Set<String> suites = jdkCipherSuites;
    if (suites == null) {
      try {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, null, null);
        suites = Set.of(context.getSupportedSSLParameters().getCipherSuites());
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("the JDK has no TLS implementation", e);
      }
      jdkCipherSuites = suites;
    }
    return suites;
  }

  @Override
  public String toString() {
    return describe();
  }
}
