package io.tollgate.tls;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * {@link ServerTls} of one route: the route's own certificates (one ECDSA and/or one RSA), or
 * for {@code certificate = auto} those the certificate store has for the SNI. Every context was
 * built at load; choosing one is two map look-ups.
 */
final class RouteServerTls implements ServerTls {
  private final String routeName;
  private final Function<String, CertificateChoice> certificatesForSni;
  private final Map<CertifiedKey, ServerCertificate> contexts;

  RouteServerTls(
      String routeName,
      Function<String, CertificateChoice> certificatesForSni,
      Map<CertifiedKey, ServerCertificate> contexts) {
    this.routeName = routeName;
    this.certificatesForSni = certificatesForSni;
    this.contexts = new IdentityHashMap<>(contexts);
  }

  @Override
  public SslHandler newHandler(ByteBufAllocator alloc, String sni, boolean clientSupportsEcdsa) {
    ServerCertificate certificate = select(sni, clientSupportsEcdsa);
    return certificate == null ? null : certificate.newHandler(alloc);
  }

  @Override
  public CertifiedKey certificateFor(String sni, boolean clientSupportsEcdsa) {
    ServerCertificate certificate = select(sni, clientSupportsEcdsa);
    return certificate == null ? null : certificate.certified();
  }

  @Override
  public Collection<CertifiedKey> certificates() {
    return Collections.unmodifiableSet(contexts.keySet());
  }

  /** The context {@link #newHandler} would use, or {@code null} (tests read its session stats). */
  SslContext sslContext(String sni, boolean clientSupportsEcdsa) {
    ServerCertificate certificate = select(sni, clientSupportsEcdsa);
    return certificate == null ? null : certificate.context();
  }

  private ServerCertificate select(String sni, boolean clientSupportsEcdsa) {
    CertificateChoice choice = certificatesForSni.apply(sni);
    return choice == null ? null : contexts.get(choice.select(clientSupportsEcdsa));
  }

  @Override
  public String toString() {
    return "ServerTls[" + routeName + ", " + contexts.size() + " certificate(s)]";
  }
}
