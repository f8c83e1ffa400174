package io.tollgate.tls;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.tollgate.inspect.EcdsaSupport;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * {@link ServerTls} of one route: the route's own certificates (one ECDSA and/or one RSA), or for
 * {@code certificate = auto} those the certificate store has for the SNI. Every context was built
 * at load; choosing one is a few map look-ups. The ECDSA certificate is chosen only when the client
 * accepts its curve under the version the route will negotiate (TLS 1.3 when both allow it), so a
 * client that signs with P-384 only gets the RSA certificate, not a P-256 one that fails the
 * handshake.
 */
final class RouteServerTls implements ServerTls {
  private final String routeName;
  private final Function<String, CertificateChoice> certificatesForSni;
  private final Map<CertifiedKey, ServerCertificate> contexts;

  /** The curve of each ECDSA certificate (absent: not P-256/384/521). */
  private final Map<CertifiedKey, EcdsaSupport.Curve> curves = new IdentityHashMap<>();

  /** Whether the route allows TLS 1.3, i.e. negotiates it with clients that offer it. */
  private final boolean tls13;

  /**
   * @param tls13 whether the route's protocols include TLS 1.3
   */
  RouteServerTls(
      String routeName,
      Function<String, CertificateChoice> certificatesForSni,
      Map<CertifiedKey, ServerCertificate> contexts,
      boolean tls13) {
    this.routeName = routeName;
    this.certificatesForSni = certificatesForSni;
    this.contexts = new IdentityHashMap<>(contexts);
    this.tls13 = tls13;
    for (CertifiedKey certified : contexts.keySet()) {
      if (certified.kind() == KeyKind.ECDSA) {
        EcdsaSupport.Curve curve = EcCurves.of(certified.leaf().getPublicKey());
        if (curve != null) {
          curves.put(certified, curve);
        }
      }
    }
  }

  @Override
  public SslHandler newHandler(ByteBufAllocator alloc, String sni, EcdsaSupport clientEcdsa) {
    ServerCertificate certificate = select(sni, clientEcdsa);
    return certificate == null ? null : certificate.newHandler(alloc);
  }

  @Override
  public CertifiedKey certificateFor(String sni, EcdsaSupport clientEcdsa) {
    ServerCertificate certificate = select(sni, clientEcdsa);
    return certificate == null ? null : certificate.certified();
  }

  @Override
  public Collection<CertifiedKey> certificates() {
    return Collections.unmodifiableSet(contexts.keySet());
  }

  /** The context {@link #newHandler} would use, or {@code null} (tests read its session stats). */
  SslContext sslContext(String sni, boolean clientSupportsEcdsa) {
    ServerCertificate certificate =
        select(sni, clientSupportsEcdsa ? EcdsaSupport.ANY : EcdsaSupport.NONE);
    return certificate == null ? null : certificate.context();
  }

  private ServerCertificate select(String sni, EcdsaSupport clientEcdsa) {
    CertificateChoice choice = certificatesForSni.apply(sni);
    if (choice == null) {
      return null;
    }
    boolean ecdsa =
        choice.ecdsa() != null && clientEcdsa.accepts(curves.get(choice.ecdsa()), tls13);
    return contexts.get(choice.select(ecdsa));
  }

  @Override
  public String toString() {
    return "ServerTls[" + routeName + ", " + contexts.size() + " certificate(s)]";
  }
}
