package io.tollgate.tls;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslHandler;
import java.util.List;

/**
 * Certificates obtained while Tollgate runs ({@code certificate = acme}), by route name: what an
 * offload or reencrypt route with such a certificate serves, and the tls-alpn-01 answers (RFC 8737)
 * for its names. The ACME manager implements it; {@link #NONE} has nothing (the {@code check}
 * command, tests).
 */
public interface ManagedCertificates {
  ManagedCertificates NONE =
      new ManagedCertificates() {
        @Override
        public List<CertifiedKey> current(String routeName) {
          return List.of();
        }

        @Override
        public SslHandler challengeHandler(ByteBufAllocator alloc, String sni) {
          return null;
        }

        @Override
        public void subscribe(String routeName, Subscriber subscriber) {}
      };

  /**
   * The route's certificates now: at most one ECDSA and one RSA, empty until the first is issued.
   * The same list instance is returned until they change, so callers may compare by identity.
   */
  List<CertifiedKey> current(String routeName);

  /**
   * A server handler presenting the tls-alpn-01 challenge certificate for {@code sni} with ALPN
   * {@code acme-tls/1}, or {@code null} when no validation of that name is pending.
   */
  SslHandler challengeHandler(ByteBufAllocator alloc, String sni);

  /**
   * Asks to be told, off the event loops, when the route's certificates change, so TLS contexts are
   * rebuilt there rather than on the first connection. Held weakly: a subscriber of a snapshot no
   * longer in force simply goes away.
   */
  void subscribe(String routeName, Subscriber subscriber);

  /** Told of a changed certificate. */
  interface Subscriber {
    void certificatesChanged();
  }
}
