package io.tollgate.tls;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * Hands a server context its one key and chain as they are, under one alias.
 *
 * <p>Netty's {@code forServer(key, chain)} puts them in an in-memory key store, protects the key
 * with its password, reads it back and PEM-encodes it for BoringSSL, for every context, at load: at
 * 10,000 offload routes that was seconds of the load, most of it the JIT compiling the key store's
 * key protection. With this manager BoringSSL gets the key material from Netty's key material
 * provider on the route's first handshake (encoded once, then kept by the context), and a context
 * that never sees a handshake never pays for it.
 *
 * <p>A context carries one certificate; which of a route's certificates (ECDSA, RSA) a client gets
 * is decided before its context is chosen ({@link CertificateChoice}), so the alias is offered only
 * for the key type the key has, as the JDK's own key managers do.
 */
final class ServerKeyManager extends X509ExtendedKeyManager {
  private static final String ALIAS = "route";

  private final PrivateKey key;
  private final X509Certificate[] chain;
  private final String keyType;

  ServerKeyManager(PrivateKey key, X509Certificate[] chain, KeyKind kind) {
    this.key = key;
    this.chain = chain;
    this.keyType = kind == KeyKind.ECDSA ? "EC" : "RSA";
  }

  @Override
  public String chooseEngineServerAlias(String type, Principal[] issuers, SSLEngine engine) {
    return alias(type);
  }

  @Override
  public String chooseServerAlias(String type, Principal[] issuers, Socket socket) {
    return alias(type);
  }

  private String alias(String type) {
    return keyType.equals(type) ? ALIAS : null;
  }

  @Override
  public String[] getServerAliases(String type, Principal[] issuers) {
    return keyType.equals(type) ? new String[] {ALIAS} : null;
  }

  @Override
  public X509Certificate[] getCertificateChain(String alias) {
    // Netty and the JDK only read the array; the material cache compares it element by element.
    return ALIAS.equals(alias) ? chain : null;
  }

  @Override
  public PrivateKey getPrivateKey(String alias) {
    return ALIAS.equals(alias) ? key : null;
  }

  /** A server presents no client certificate. */
  @Override
  public String[] getClientAliases(String type, Principal[] issuers) {
    return null;
  }

  @Override
  public String chooseClientAlias(String[] types, Principal[] issuers, Socket socket) {
    return null;
  }

  @Override
  public String chooseEngineClientAlias(String[] types, Principal[] issuers, SSLEngine engine) {
    return null;
  }
}
